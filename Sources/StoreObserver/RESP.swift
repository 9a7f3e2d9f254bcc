import CHiredis

/// The Redis protocol (RESP) for commands laid out by hand, appended to a buffer the caller
/// reuses: `*<arguments>\r\n`, then `$<length>\r\n<bytes>\r\n` per argument. Used where building
/// an argument array per command would cost more than the command (bulk reads, batch writes).
enum RESP {
    static func command(_ args: [String]) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: "*\(args.count)\r\n".utf8)
        for a in args { bulk(a.utf8, to: &out) }
        return out
    }

    /// `args` then one more argument given as bytes.
    static func append(_ args: [String], _ last: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        arguments(args.count + 1, to: &out)
        for a in args { bulk(a.utf8, to: &out) }
        bulk(last, to: &out)
    }

    /// Starts a command of `count` arguments; exactly that many `bulk`s must follow.
    static func arguments(_ count: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        decimal(count, to: &out)
    }

    static func bulk(_ s: String, to out: inout [UInt8]) { bulk(s.utf8, to: &out) }

    /// One argument made of `prefix` then `s` (a staging hash's name), without joining them first.
    static func bulk(_ prefix: [UInt8], _ s: ArraySlice<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "$"))
        decimal(prefix.count + s.count, to: &out)
        out.append(contentsOf: prefix)
        out.append(contentsOf: s)
        out.append(contentsOf: [13, 10])
    }

    static func bulk<C: Collection>(_ a: C, to out: inout [UInt8]) where C.Element == UInt8 {
        out.append(UInt8(ascii: "$"))
        decimal(a.count, to: &out)
        out.append(contentsOf: a)
        out.append(contentsOf: [13, 10])
    }

    /// One argument of `length` bytes that `write` appends.
    static func bulk(length: Int, to out: inout [UInt8], _ write: (inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "$"))
        decimal(length, to: &out)
        write(&out)
        out.append(contentsOf: [13, 10])
    }

    /// `n` (never negative: a count or a length) in decimal, then CRLF; digit by digit, as a
    /// `String` per number would cost more than the rest of a short argument.
    private static func decimal(_ n: Int, to out: inout [UInt8]) {
        var divisor = 1
        while divisor <= n / 10 { divisor *= 10 }
        var rest = max(0, n)
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
        out.append(contentsOf: [13, 10])
    }

    /// A reply string's bytes, valid while the reply is.
    static func bytes(_ r: redisReply) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: r.str, count: r.str == nil ? 0 : Int(r.len))
    }
}
