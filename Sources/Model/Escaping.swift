extension StringProtocol {
    /// The text with every control or invisible formatting character written as an escape
    /// (`\n`, `\r`, `\t`, `\xNN`, `\u{NNNN}`), so data from a file, Redis or the kernel printed in a
    /// message, a plan or a log line cannot end the line, forge another, or drive the terminal.
    /// A backslash is left as it is: escaping twice then gives what escaping once gives, so each
    /// layer (an issue's text, the log sink) can escape without knowing what another did.
    public var escapedForLog: String {
        if utf8.allSatisfy({ (0x20..<0x7F).contains($0) }) { return String(self) }
        var out = ""
        out.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    appendHexByte(UInt8(scalar.value), to: &out)
                } else if scalar.isControlOrInvisible {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

extension Unicode.Scalar {
    /// Controls (C0, DEL, C1: U+0085 ends a line in some viewers, 0x9B is a terminal's CSI), format
    /// characters (bidi overrides, zero widths) and the Unicode line and paragraph separators: what
    /// every output of outside data writes as an escape.
    public var isControlOrInvisible: Bool {
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }
}

/// Bytes from outside (a kernel link name, a Redis key) as one printable ASCII line for a log or
/// a report: printable ASCII stays, `\` doubles, every other byte becomes `\xNN`. Lossless, so
/// two different byte strings never print alike.
public func escapedBytes(_ bytes: some Sequence<UInt8>) -> String {
    var out = ""
    for b in bytes {
        switch b {
        case UInt8(ascii: "\\"): out += "\\\\"
        case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
        default: appendHexByte(b, to: &out)
        }
    }
    return out
}

/// `\xNN`, lower-case hex.
private func appendHexByte(_ b: UInt8, to out: inout String) {
    func digit(_ n: UInt8) -> Unicode.Scalar { Unicode.Scalar(n < 10 ? 0x30 + n : 0x57 + n) }
    out += "\\x"
    out.unicodeScalars.append(digit(b >> 4))
    out.unicodeScalars.append(digit(b & 15))
}
