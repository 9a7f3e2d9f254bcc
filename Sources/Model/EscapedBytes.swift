/// Bytes from outside (a kernel link name, a Redis key) as one printable ASCII line for a log or
/// a report: printable ASCII stays, `\` doubles, every other byte becomes `\xNN`. Lossless, so
/// two different byte strings never print alike.
public func escapedBytes(_ bytes: some Sequence<UInt8>) -> String {
    var out = ""
    for b in bytes {
        switch b {
        case UInt8(ascii: "\\"): out += "\\\\"
        case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
        default:
            out += "\\x"
            out.unicodeScalars.append(hexDigit(b >> 4))
            out.unicodeScalars.append(hexDigit(b & 15))
        }
    }
    return out
}

private func hexDigit(_ n: UInt8) -> Unicode.Scalar { Unicode.Scalar(n < 10 ? 0x30 + n : 0x57 + n) }
