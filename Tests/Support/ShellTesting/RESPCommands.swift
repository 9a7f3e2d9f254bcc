/// Reads commands laid out in the Redis protocol (`*N\r\n` then `$len\r\n<bytes>\r\n` per
/// argument) back into arguments, as a server would: the fakes' side of `appendProtocol`.
public enum RESPCommands {
    /// The commands in `bytes`; nil when they are not well formed (or an argument is not UTF-8).
    public static func parse(_ bytes: [UInt8]) -> [[String]]? {
        var i = 0
        func number(after marker: UInt8) -> Int? {
            guard i < bytes.count, bytes[i] == marker else { return nil }
            i += 1
            var n = 0
            var digits = 0
            while i < bytes.count, bytes[i] != 13 {
                guard (48...57).contains(bytes[i]), digits < 9 else { return nil }
                n = n * 10 + Int(bytes[i] - 48)
                digits += 1
                i += 1
            }
            guard digits > 0, i + 1 < bytes.count, bytes[i + 1] == 10 else { return nil }
            i += 2
            return n
        }
        var out: [[String]] = []
        while i < bytes.count {
            guard let count = number(after: UInt8(ascii: "*")) else { return nil }
            var args: [String] = []
            for _ in 0..<count {
                guard let length = number(after: UInt8(ascii: "$")), length <= bytes.count - i - 2,
                    bytes[i + length] == 13, bytes[i + length + 1] == 10,
                    let arg = String(validating: bytes[i..<i + length], as: UTF8.self)
                else { return nil }
                args.append(arg)
                i += length + 2
            }
            out.append(args)
        }
        return out
    }
}
