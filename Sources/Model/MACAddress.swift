/// A 48-bit link-layer (Ethernet) address, printed lower-case with colons as libnl does.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The six bytes in network order, in the low 48 bits.
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    /// Builds an address from exactly six bytes; any other length is not a MAC address.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 6 else { return nil }
        var v: UInt64 = 0
        for b in bytes { v = v << 8 | UInt64(b) }
        rawValue = v
    }

    /// Appends the six bytes in network order (what netlink, ARP and NDP carry), without an array
    /// in between (the netlink encoder writes one per neighbor).
    public func appendBytes(to out: inout [UInt8]) {
        for shift in stride(from: 40, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: rawValue >> UInt64(shift)))
        }
    }

    /// Parses `aa:bb:cc:dd:ee:ff` (either case). Returns nil for anything else.
    public init?(_ text: some StringProtocol) {
        var text = String(text)
        guard let v = text.withUTF8({ Self.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        rawValue = v
    }

    /// The same from UTF-8 bytes (a Redis reply), without making a string.
    public init?(utf8: UnsafeRawBufferPointer) {
        guard let v = Self.parse(utf8) else { return nil }
        rawValue = v
    }

    static func parse(_ utf8: UnsafeRawBufferPointer) -> UInt64? {
        var v: UInt64 = 0
        var digits = 0
        var groups = 0
        for c in utf8 {
            if c == UInt8(ascii: ":") {
                guard digits == 2, groups < 5 else { return nil }
                groups += 1
                digits = 0
                continue
            }
            guard let h = hexValue(c), digits < 2 else { return nil }
            v = v << 4 | UInt64(h)
            digits += 1
        }
        guard groups == 5, digits == 2 else { return nil }
        return v
    }

    public static let zero = MACAddress(rawValue: 0)
    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)

    public var description: String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 17) { buf in
            var i = 0
            for shift in stride(from: 40, through: 0, by: -8) {
                let b = Int((rawValue >> UInt64(shift)) & 0xFF)
                if i > 0 {
                    buf[i] = UInt8(ascii: ":")
                    i += 1
                }
                buf[i] = hex[b >> 4]
                buf[i + 1] = hex[b & 0xF]
                i += 2
            }
            return i
        }
    }

    /// The text form's length: `aa:bb:cc:dd:ee:ff`.
    public static let textLength = 17

    /// Appends the text form (`description`'s bytes) to `out`, building no string: the batch
    /// writer lays out a MAC per SET.
    public func appendText(to out: inout [UInt8]) {
        for shift in stride(from: 40, through: 0, by: -8) {
            let b = UInt8(truncatingIfNeeded: rawValue >> UInt64(shift))
            if shift < 40 { out.append(UInt8(ascii: ":")) }
            out.append(Self.hexDigit(b >> 4))
            out.append(Self.hexDigit(b & 0xF))
        }
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10 }

    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.rawValue < b.rawValue }
}

@inline(__always)
func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}
