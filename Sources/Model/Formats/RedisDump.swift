import Foundation

/// One Redis value as `sonic-db-dump` prints it.
public enum RedisValue: Hashable, Sendable {
    case hash([String: String])
    case set(Set<String>)
    case other(type: String)
}

/// A database as `sonic-db-dump -n DB` prints it: `{"<key>": {"type": "hash", "value": {…}}, …}`.
public enum RedisDump {
    public static func parse(_ data: Data, source: String) throws(SnapshotFormatError)
        -> (values: [String: RedisValue], issues: [SnapshotIssue])
    {
        let top: Any
        do { top = try JSONSerialization.jsonObject(with: data) } catch {
            throw SnapshotFormatError(source: source, reason: "not JSON: \(error.localizedDescription)")
        }
        guard let object = top as? [String: Any] else {
            throw SnapshotFormatError(source: source, reason: "expected a JSON object of key → {\"type\", \"value\"} as printed by sonic-db-dump")
        }
        var values: [String: RedisValue] = [:]
        var issues: [SnapshotIssue] = []
        for (key, item) in object {
            guard let o = item as? [String: Any], let type = o["type"] as? String else {
                issues.append(SnapshotIssue(source: source, item: key, reason: "not a {\"type\", \"value\"} object"))
                continue
            }
            switch type {
            case "hash":
                guard let fields = o["value"] as? [String: Any] else {
                    issues.append(SnapshotIssue(source: source, item: key, reason: "hash without an object \"value\""))
                    continue
                }
                var h: [String: String] = [:]
                for (f, v) in fields {
                    if let s = v as? String { h[f] = s } else if let n = v as? NSNumber { h[f] = n.stringValue } else {
                        issues.append(SnapshotIssue(source: source, item: key, reason: "field \"\(f)\" is not a string"))
                    }
                }
                values[key] = .hash(h)
            case "set":
                guard let members = o["value"] as? [Any] else {
                    issues.append(SnapshotIssue(source: source, item: key, reason: "set without an array \"value\""))
                    continue
                }
                values[key] = .set(Set(members.compactMap { $0 as? String }))
            default:
                values[key] = .other(type: type)
            }
        }
        return (values, issues)
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
