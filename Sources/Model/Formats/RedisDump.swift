import Foundation

/// One Redis value as `sonic-db-dump` prints it.
public enum RedisValue: Hashable, Sendable {
    case hash([String: String])
    case set(Set<String>)
    case other(type: String)
}

/// A database as `sonic-db-dump -n DB` prints it: `{"<key>": {"type": "hash", "value": {…}}, …}`.
public enum RedisDump {
    /// A dump's values, its bad items (skipped or partly kept) and its doubtful ones (kept, with a warning).
    public typealias Parsed = (values: [String: RedisValue], issues: [SnapshotIssue], warnings: [SnapshotIssue])

    /// What a dump holds besides its values: bad items, and doubtful ones (kept, with a warning).
    public typealias Report = (issues: [SnapshotIssue], warnings: [SnapshotIssue])

    /// Parses a dump into a table of its values. Items of the wrong shape are reported; a key
    /// given twice is kept as its last value, with a warning, and so is a hash field or a set
    /// member given twice.
    public static func parse(_ bytes: some Collection<UInt8>, source: String) throws(SnapshotFormatError) -> Parsed {
        var values: [String: RedisValue] = [:]
        var repeated: [SnapshotIssue] = []
        let report = try read(bytes, source: source) { key, value in
            if values.updateValue(value, forKey: key) != nil { repeated.append(repeatedKey(key, source: source)) }
        }
        return (values, report.issues, report.warnings + repeated)
    }

    /// The warning for a key given twice; the caller, which keeps the values, sees it.
    public static func repeatedKey(_ key: String, source: String) -> SnapshotIssue {
        SnapshotIssue(source: source, item: key, reason: "the key appears more than once; the last one is used")
    }

    /// Reads a dump item by item, handing each usable item whose key `keep` accepts to `visit`, in
    /// file order; other keys are checked as JSON and dropped. No table of the whole dump is
    /// built: the caller keeps what it needs.
    public static func read(
        _ bytes: some Collection<UInt8>,
        source: String,
        keeping keep: (String) -> Bool = { _ in true },
        _ visit: (String, RedisValue) -> Void
    ) throws(SnapshotFormatError) -> Report {
        let result =
            bytes.withContiguousStorageIfAvailable { read(UnsafeRawBufferPointer($0), source, keep, visit) }
            ?? Array(bytes).withUnsafeBytes { read($0, source, keep, visit) }
        return try result.get()
    }

    static func read(
        _ bytes: UnsafeRawBufferPointer,
        _ source: String,
        _ keep: (String) -> Bool,
        _ visit: (String, RedisValue) -> Void
    ) -> Result<Report, SnapshotFormatError> {
        var reader = JSONReader(bytes)
        var parsed: Report = ([], [])
        do {
            let top = try reader.peek()
            guard top == .object else {
                let expected = "expected a JSON object of key → {\"type\", \"value\"} (as sonic-db-dump prints)"
                return .failure(SnapshotFormatError(source: source, reason: "\(expected), found \(top.named)"))
            }
            var object = try reader.beginObject()
            while let key = try reader.nextKey(in: &object) {
                guard keep(key) else {
                    try reader.skipValue()
                    continue
                }
                let item = try Item.read(&reader)
                parsed.issues += item.problems.map { SnapshotIssue(source: source, item: key, reason: $0) }
                parsed.warnings += item.doubts.map { SnapshotIssue(source: source, item: key, reason: $0) }
                if let value = item.value { visit(key, value) }
            }
            try reader.finish()
        } catch {
            return .failure(SnapshotFormatError(source: source, reason: error.description))
        }
        return .success(parsed)
    }

    /// One `{"type": …, "value": …}` item (sonic-db-dump also prints `ttl` and `expireat`, ignored).
    /// Members may come in any order, so the value is read by its own shape and matched to the
    /// type at the end.
    struct Item {
        var value: RedisValue?
        var problems: [String] = []
        var doubts: [String] = []

        private enum Shape {
            case fields([String: String], problems: [String])
            case members(Set<String>, problems: [String])
            case other(JSONReader.Kind)

            var kindNamed: String {
                switch self {
                case .fields: JSONReader.Kind.object.named
                case .members: JSONReader.Kind.array.named
                case .other(let kind): kind.named
                }
            }
        }

        static func read(_ r: inout JSONReader) throws(JSONError) -> Item {
            var item = Item()
            let kind = try r.peek()
            guard kind == .object else {
                try r.skipValue()
                item.problems.append("not a {\"type\", \"value\"} object (found \(kind.named))")
                return item
            }
            var type: String?
            var typeKind = JSONReader.Kind.null
            var shape = Shape.other(.null)
            var object = try r.beginObject()
            var typeSeen = false
            var valueSeen = false
            while let member = try r.nextKey(in: &object) {
                guard member == "type" || member == "value" else {
                    try r.skipValue()
                    continue
                }
                let again = member == "type" ? typeSeen : valueSeen
                if again { item.doubts.append("\"\(member)\" appears more than once; the last one is used") }
                if member == "type" {
                    typeSeen = true
                    typeKind = try r.peek()
                    type = typeKind == .string ? try r.readString() : nil
                    if type == nil { try r.skipValue() }
                } else {
                    valueSeen = true
                    shape = try readShape(&r, doubts: &item.doubts)
                }
            }
            guard let type else {
                item.problems.append(typeSeen ? "\"type\" is not a string (found \(typeKind.named))" : "no \"type\"")
                return item
            }
            let found = valueSeen ? "found \(shape.kindNamed)" : "none given"
            switch (type, shape) {
            case ("hash", .fields(let fields, let problems)):
                item.value = .hash(fields)
                item.problems += problems
            case ("hash", _):
                item.problems.append("hash without an object \"value\" (\(found))")
            case ("set", .members(let members, let problems)):
                item.value = .set(members)
                item.problems += problems
            case ("set", _):
                item.problems.append("set without an array \"value\" (\(found))")
            default:
                item.value = .other(type: type)
            }
            return item
        }

        /// A hash's fields must be strings, a set's members too; anything else is kept as its kind.
        private static func readShape(_ r: inout JSONReader, doubts: inout [String]) throws(JSONError) -> Shape {
            var problems: [String] = []
            switch try r.peek() {
            case .object:
                var fields: [String: String] = [:]
                var object = try r.beginObject()
                while let field = try r.nextKey(in: &object) {
                    let kind = try r.peek()
                    guard kind == .string else {
                        try r.skipValue()
                        problems.append("field \"\(field)\" is not a string (found \(kind.named))")
                        continue
                    }
                    if fields.updateValue(try r.readString(), forKey: field) != nil {
                        doubts.append("field \"\(field)\" appears more than once; the last one is used")
                    }
                }
                return .fields(fields, problems: problems)
            case .array:
                var members: Set<String> = []
                var list = try r.beginArray()
                while try r.next(in: &list) {
                    let kind = try r.peek()
                    guard kind == .string else {
                        try r.skipValue()
                        problems.append("a set member is not a string (found \(kind.named))")
                        continue
                    }
                    let member = try r.readString()
                    if !members.insert(member).inserted {
                        doubts.append("set member \"\(member)\" appears more than once")
                    }
                }
                return .members(members, problems: problems)
            case let kind:
                try r.skipValue()
                return .other(kind)
            }
        }
    }

    /// Prints values the way `sonic-db-dump` does (keys sorted), so `parse` reads them back.
    public static func render(_ values: [String: RedisValue]) -> Data {
        var object: [String: Any] = [:]
        for (k, v) in values {
            switch v {
            case .hash(let h): object[k] = ["type": "hash", "value": h]
            case .set(let s): object[k] = ["type": "set", "value": s.sorted()]
            case .other(let type): object[k] = ["type": type, "value": NSNull()]
            }
        }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    /// The hashes of a CONFIG_DB dump, for `Policy(configDB:)`.
    public static func hashes(_ values: [String: RedisValue]) -> [String: [String: String]] {
        values.compactMapValues { if case .hash(let h) = $0 { return h } else { return nil } }
    }
}
