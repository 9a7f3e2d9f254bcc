import Foundation
import Model
import Testing

/// The strict reader under `reconcile`'s input formats (issue 11: shapes, NULs, duplicates, speed).
@Suite struct JSONReaderTests {
    /// Reads any value into a plain tree, through the reader's walking calls.
    static func tree(_ text: String) throws -> String {
        try Array(text.utf8).withUnsafeBytes { raw in
            var r = JSONReader(raw)
            let v = try value(&r)
            try r.finish()
            return v
        }
    }

    static func value(_ r: inout JSONReader) throws(JSONError) -> String {
        switch try r.peek() {
        case .object:
            var o = try r.beginObject()
            var parts: [String] = []
            while let k = try r.nextKey(in: &o) { parts.append("\(k.debugDescription):\(try value(&r))") }
            return "{" + parts.joined(separator: ",") + "}"
        case .array:
            var a = try r.beginArray()
            var parts: [String] = []
            while try r.next(in: &a) { parts.append(try value(&r)) }
            return "[" + parts.joined(separator: ",") + "]"
        case .string: return try r.readString().debugDescription
        case .number: return try r.readNumber()
        case .boolean, .null: return try r.readLiteral().map { "\($0)" } ?? "null"
        }
    }

    @Test(arguments: [
        (#" [1, -2.5e+3, 0, "a", true, false, null, {}, []] "#, #"[1,-2.5e+3,0,"a",true,false,null,{},[]]"#),
        (#"{"k": {"n": [{"x": "y"}]}}"#, #"{"k":{"n":[{"x":"y"}]}}"#),
        (#""\"\\\/\b\f\n\r\t""#, #""\"\\/\u{08}\u{0C}\n\r\t""#),
        (#""\u00e9\u20ac\ud83d\ude00 é""#, #""é€😀 é""#),
        (#""10.0.0.1\u0000evil""#, #""10.0.0.1\0evil""#),
    ])
    func readsValidJSON(_ text: String, _ expected: String) throws {
        #expect(try Self.tree(text) == expected)
    }

    @Test(arguments: [
        ("", "unexpected end of input"), ("[1,]", "trailing ','"), ("[1 2]", "expected ',' or ']'"),
        ("{\"a\" 1}", "expected ':'"), ("{1: 2}", "expected a string key"), ("[01]", "leading zero"),
        ("[1.]", "digit after '.'"), ("[-]", "expected a digit"), ("[1e]", "exponent"), ("[NaN]", "unexpected 'N'"),
        ("[tru]", "true, false or null"), ("\"a\u{01}b\"", "raw control character"), ("\"abc", "unterminated"),
        ("\"\\x\"", "unknown escape"), ("\"\\ud800\"", "lone surrogate"), ("\"\\udc00\"", "lone surrogate"),
        ("\"\\u12\"", "four hex digits"), ("[] []", "after the value"), ("// c\n[]", "unexpected '/'"),
    ])
    func refusesInvalidJSON(_ text: String, _ reason: String) {
        #expect { try Self.tree(text) } throws: { ($0 as? JSONError)?.reason.contains(reason) == true }
    }

    @Test func refusesInvalidUTF8() {
        let invalid: [[UInt8]] = [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22],
        ]
        for bytes in invalid {
            bytes.withUnsafeBytes { raw in
                var r = JSONReader(raw)
                #expect(throws: JSONError.self) { try r.readString() }
            }
        }
    }

    @Test func errorsCarryLineAndColumn() {
        #expect { try Self.tree("[\n  1,\n  2 3\n]") } throws: { error in
            guard let e = error as? JSONError else { return false }
            return e.line == 3 && e.column == 5 && e.offset == 11
        }
    }

    @Test func skipValueChecksWhatItSkipsAndBoundsTheDepth() throws {
        #expect(try Self.skipped(#"[{"a": [1, {"b": null}]}, "x"]"#))
        #expect(throws: JSONError.self) { try Self.skipped(#"[{"a": [1, {"b": nul}]}]"#) }
        #expect(throws: JSONError.self) { try Self.skipped(#"[{"a" 1}]"#) }
        #expect(try Self.skipped(String(repeating: "[", count: 512) + String(repeating: "]", count: 512)))
        #expect { try Self.skipped(String(repeating: "[", count: 100_000)) } throws: {
            ($0 as? JSONError)?.reason.contains("nested deeper") == true
        }
    }

    static func skipped(_ text: String) throws -> Bool {
        try Array(text.utf8).withUnsafeBytes { raw in
            var r = JSONReader(raw)
            try r.skipValue()
            try r.finish()
            return true
        }
    }

    /// The escaping every message, plan and log line goes through.
    @Test func escapedForLogLeavesNoControlCharacter() {
        #expect("Ethernet0:10.0.0.1".escapedForLog == "Ethernet0:10.0.0.1")
        #expect("a\nb\r\tc\u{1B}[2J\u{07}\u{0}\u{7F}".escapedForLog == #"a\nb\r\tc\x1b[2J\x07\x00\x7f"#)
        #expect("x\u{85}y\u{202E}z\u{2028}é€".escapedForLog == #"x\u{85}y\u{202e}z\u{2028}é€"#)
        let once = "a\nb\\x".escapedForLog
        #expect(once.escapedForLog == once)  // layers may escape again without doubling
    }
}
