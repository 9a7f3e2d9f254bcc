/// A strict pull reader of one JSON text (RFC 8259) held in memory. The caller walks the shape it
/// expects, so a 50 MB dump is read without building a tree of `Any` (the cost of
/// `JSONSerialization`), and it sees what a tree hides: a key given twice, a `\u0000` in a string,
/// the byte where a value starts and ends. Refused: comments, trailing commas, NaN, leading zeros,
/// raw control characters in strings, invalid UTF-8, lone surrogates, nesting deeper than 512.
public struct JSONReader {
    /// What the next value is, named as messages name it ("found a number").
    public enum Kind: String, Sendable {
        case object, array, string, number, boolean, null

        /// "an object", "a number", "null": as a message says what it found.
        public var named: String {
            switch self {
            case .object, .array: "an \(rawValue)"
            case .string, .number, .boolean: "a \(rawValue)"
            case .null: "null"
            }
        }
    }

    /// An open array or object: whether its first member is still to come.
    public struct Container {
        fileprivate var first = true
    }

    private let bytes: UnsafeRawBufferPointer
    /// Where reading continues, in bytes from the start.
    public private(set) var offset = 0

    static let maxDepth = 512

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The kind of the next value, after any white space.
    public mutating func peek() throws(JSONError) -> Kind {
        skipSpace()
        guard offset < bytes.count else { throw error("unexpected end of input") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .boolean
        case UInt8(ascii: "n"): return .null
        default: throw error("unexpected \(Self.show(bytes[offset]))")
        }
    }

    /// The text between `start` and the current offset, e.g. one whole value for a message.
    public func text(from start: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[min(start, offset)..<offset]), as: UTF8.self)
    }

    /// Reads `[`; then `while try next(in: &array) { read one value }`.
    public mutating func beginArray() throws(JSONError) -> Container {
        try expect(UInt8(ascii: "["))
        return Container()
    }

    /// True when another element follows (its `,` consumed); false after the closing `]`.
    public mutating func next(in array: inout Container) throws(JSONError) -> Bool {
        try separator(in: &array, close: UInt8(ascii: "]"))
    }

    /// Reads `{`; then `while let key = try nextKey(in: &object) { read its value }`.
    public mutating func beginObject() throws(JSONError) -> Container {
        try expect(UInt8(ascii: "{"))
        return Container()
    }

    /// The next member's key (its `:` consumed, the value next), or nil after the closing `}`.
    public mutating func nextKey(in object: inout Container) throws(JSONError) -> String? {
        guard try separator(in: &object, close: UInt8(ascii: "}")) else { return nil }
        guard try peek() == .string else { throw error("expected a string key") }
        let key = try readString()
        try expect(UInt8(ascii: ":"))
        return key
    }

    /// Reads a string, escapes decoded. It may hold any character, `\u0000` included.
    public mutating func readString() throws(JSONError) -> String {
        try expect(UInt8(ascii: "\""))
        let start = offset
        var ascii = true
        while offset < bytes.count {
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
                offset += 1
                if ascii { return String(decoding: raw, as: UTF8.self) }
                guard let s = String(validating: raw, as: UTF8.self) else {
                    throw error("invalid UTF-8 in a string", at: start)
                }
                return s
            }
            if b == UInt8(ascii: "\\") { return try readEscapedString(from: start) }
            if b < 0x20 { throw error("raw control character \(Self.show(b)) in a string") }
            if b >= 0x80 { ascii = false }
            offset += 1
        }
        throw error("unterminated string", at: start - 1)
    }

    /// Reads a number and returns its text as written.
    public mutating func readNumber() throws(JSONError) -> String {
        skipSpace()
        let start = offset
        func digits() -> Int {
            let from = offset
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            return offset - from
        }
        if byte == UInt8(ascii: "-") { offset += 1 }
        let leadingZero = byte == UInt8(ascii: "0")
        let whole = digits()
        guard whole > 0 else { throw error("expected a digit") }
        if leadingZero, whole > 1 { throw error("a number with a leading zero", at: start) }
        if byte == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw error("expected a digit after '.'") }
        }
        if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            offset += 1
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw error("expected a digit in the exponent") }
        }
        return text(from: start)
    }

    /// Reads `true`, `false` or `null` (nil).
    public mutating func readLiteral() throws(JSONError) -> Bool? {
        skipSpace()
        let words: [(String, Bool?)] = [("true", true), ("false", false), ("null", nil)]
        for (word, value) in words {
            let w = word.utf8
            if bytes.count - offset >= w.count, bytes[offset..<offset + w.count].elementsEqual(w) {
                offset += w.count
                return value
            }
        }
        throw error("expected true, false or null")
    }

    /// Reads and checks the next value, whatever it is, keeping nothing.
    public mutating func skipValue() throws(JSONError) {
        // Iterative, so a deeply nested input cannot exhaust the stack.
        var open: [(isObject: Bool, container: Container)] = []
        repeat {
            if var top = open.last {
                let more: Bool
                if top.isObject {
                    more = try nextKey(in: &top.container) != nil
                } else {
                    more = try next(in: &top.container)
                }
                open[open.count - 1] = top
                if !more {
                    open.removeLast()
                    continue
                }
            }
            switch try peek() {
            case .object, .array:
                guard open.count < Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth)") }
                let isObject = bytes[offset] == UInt8(ascii: "{")
                offset += 1
                open.append((isObject, Container()))
            case .string: _ = try readString()
            case .number: _ = try readNumber()
            case .boolean, .null: _ = try readLiteral()
            }
        } while !open.isEmpty
    }

    /// Checks that only white space follows the value read.
    public mutating func finish() throws(JSONError) {
        skipSpace()
        guard offset == bytes.count else { throw error("unexpected \(Self.show(bytes[offset])) after the value") }
    }

    // MARK: - Details

    private var byte: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): offset += 1
            default: return
            }
        }
    }

    private mutating func expect(_ c: UInt8) throws(JSONError) {
        skipSpace()
        guard byte == c else { throw error("expected '\(Character(Unicode.Scalar(c)))'") }
        offset += 1
    }

    /// Consumes the `,` before a member that is not the first, or the closing bracket.
    private mutating func separator(in container: inout Container, close: UInt8) throws(JSONError) -> Bool {
        skipSpace()
        if byte == close {
            offset += 1
            return false
        }
        if container.first {
            container.first = false
            return true
        }
        guard byte == UInt8(ascii: ",") else {
            throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'")
        }
        offset += 1
        skipSpace()
        if byte == close { throw error("a trailing ','") }
        return true
    }

    /// The slow path of `readString`, once a backslash is seen.
    private mutating func readEscapedString(from start: Int) throws(JSONError) -> String {
        var out = [UInt8](bytes[start..<offset])
        while offset < bytes.count {
            let b = bytes[offset]
            switch b {
            case UInt8(ascii: "\""):
                offset += 1
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw error("invalid UTF-8 in a string", at: start)
                }
                return s
            case UInt8(ascii: "\\"):
                offset += 1
                guard let e = byte else { break }
                offset += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: String(try readUnicodeEscape()).utf8)
                default: throw error("unknown escape \\\(Self.show(e))", at: offset - 2)
                }
            default:
                if b < 0x20 { throw error("raw control character \(Self.show(b)) in a string") }
                out.append(b)
                offset += 1
            }
        }
        throw error("unterminated string", at: start - 1)
    }

    /// After `\u`: four hex digits, and a second `\uXXXX` when they are a high surrogate.
    private mutating func readUnicodeEscape() throws(JSONError) -> Unicode.Scalar {
        let at = offset - 2
        let high = try readHex4()
        var value = high
        if (0xD800..<0xDC00).contains(high) {
            guard bytes.count - offset >= 2, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
            else { throw error("a lone surrogate", at: at) }
            offset += 2
            let low = try readHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("a lone surrogate", at: at) }
            value = 0x10000 + (high - 0xD800) << 10 + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(value) else { throw error("a lone surrogate", at: at) }
        return scalar
    }

    private mutating func readHex4() throws(JSONError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let c = byte, let h = hexValue(c) else { throw error("expected four hex digits after \\u") }
            v = v << 4 | UInt32(h)
            offset += 1
        }
        return v
    }

    private func error(_ reason: String, at position: Int? = nil) -> JSONError {
        let at = min(position ?? offset, bytes.count)
        var line = 1
        var lineStart = 0
        for (i, b) in bytes[..<at].enumerated() where b == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return JSONError(offset: at, line: line, column: at - lineStart + 1, reason: reason)
    }

    /// A byte as a message shows it: the character if printable, else its hex value.
    static func show(_ b: UInt8) -> String {
        (0x21..<0x7F).contains(b) ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x" + String(b, radix: 16)
    }
}

/// Where and why a JSON text is malformed.
public struct JSONError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Bytes from the start of the text.
    public var offset: Int
    /// 1-based, counted in lines and bytes, as editors show them.
    public var line: Int
    public var column: Int
    public var reason: String

    public var description: String { "not JSON at line \(line), column \(column) (byte \(offset)): \(reason)" }
}
