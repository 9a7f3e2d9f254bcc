import Foundation

/// How `neighsyncd reconcile` prints a plan.
public enum PlanFormat: String, CaseIterable, Sendable {
    case text, json, redis

    /// Renders sorted changes. `unchanged` is only shown by the text and JSON forms, the input
    /// problems (`issues` skipped or repaired, `warnings` kept) only by the JSON form: the others
    /// leave them to stderr.
    public func render(
        _ changes: [Change],
        unchanged: Int,
        issues: [SnapshotIssue] = [],
        warnings: [SnapshotIssue] = []
    ) -> String {
        switch self {
        case .text: return Self.text(changes, unchanged: unchanged)
        case .json: return Self.json(changes, unchanged: unchanged, issues: issues, warnings: warnings)
        case .redis:
            // One call of the writer's script per change: each line stands alone, so a reader can
            // apply some of them.
            return changes.map { change in
                Self.redisCLILine(ProducerStateTableScript.eval([ProducerStateTableScript.operation(change)])) + "\n"
            }.joined()
        }
    }

    static func text(_ changes: [Change], unchanged: Int) -> String {
        let sets = changes.filter(\.isSet).count
        var s = "\(sets) set, \(changes.count - sets) del, \(unchanged) unchanged\n"
        guard !changes.isEmpty else { return s }
        // Keys come from Redis and the kernel: a control character in one must not reach a terminal.
        let width = max(3, changes.map { $0.keyText.escapedForLog.count }.max() ?? 0)
        func pad(_ t: String, _ w: Int) -> String { t + String(repeating: " ", count: max(0, w - t.count)) }
        s += "OP   \(pad("KEY", width))  NEIGH              FAMILY\n"
        for c in changes {
            let key = c.keyText.escapedForLog
            switch c {
            case .set(_, let e): s += "SET  \(pad(key, width))  \(e.mac)  \(e.family)\n"
            case .del: s += "DEL  \(key)\n"
            case .delMalformed: s += "DEL  \(key)  (malformed key)\n"
            }
        }
        return s
    }

    /// The JSON form's version: a reader checks it before reading the rest.
    public static let jsonVersion = 1

    /// `{"version": 1, "set": {key: {"neigh", "family"}}, "del": [key], "unchanged": n, "issues": […]}`,
    /// keys in byte order. Each issue is `{"file", "key" (or "entry", its index, and "item"), "reason",
    /// "effect"}`, the effect "skipped" (the plan may be wrong), "repaired" (the plan repairs it)
    /// or "warning" (kept as read).
    static func json(
        _ changes: [Change],
        unchanged: Int,
        issues: [SnapshotIssue],
        warnings: [SnapshotIssue]
    ) -> String {
        var sets: [(String, NeighborEntry)] = []
        var dels: [String] = []
        for c in changes {
            if case .set(let k, let e) = c { sets.append((k.description, e)) } else { dels.append(c.keyText) }
        }
        sets.sort { $0.0 < $1.0 }
        let setLines = sets.map { k, e in
            "    \(jsonString(k)): {\"neigh\": \(jsonString(e.mac.description)), \"family\": "
                + "\(jsonString(e.family.description))}"
        }
        let delLines = dels.sorted().map { "    " + jsonString($0) }
        func block(_ open: String, _ close: String, _ lines: [String]) -> String {
            lines.isEmpty ? open + close : open + "\n" + lines.joined(separator: ",\n") + "\n  " + close
        }
        let issueLines =
            issues.map { jsonIssue($0, effect: $0.isRepaired ? "repaired" : "skipped") }
            + warnings.map { jsonIssue($0, effect: "warning") }
        return "{\n  \"version\": \(jsonVersion),\n  \"set\": \(block("{", "}", setLines)),\n"
            + "  \"del\": \(block("[", "]", delLines)),\n  \"unchanged\": \(unchanged),\n"
            + "  \"issues\": \(block("[", "]", issueLines))\n}\n"
    }

    /// One issue, a member a line. A kernel entry has no key: it is named by its index in the file
    /// and its text (shortened).
    static func jsonIssue(_ issue: SnapshotIssue, effect: String) -> String {
        let item = jsonString(issue.item)
        let name = issue.position.map { ["\"entry\": \($0)", "\"item\": \(item)"] } ?? ["\"key\": \(item)"]
        let members =
            ["\"file\": \(jsonString(issue.source))"] + name
            + ["\"reason\": \(jsonString(issue.reason))", "\"effect\": \"\(effect)\""]
        return "    {\n" + members.map { "      " + $0 }.joined(separator: ",\n") + "\n    }"
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                // Escaped as the text form escapes them: valid JSON, nothing a terminal acts on or a
                // reader cannot see (a scalar outside the BMP is a surrogate pair in JSON).
                if ch.isControlOrInvisible {
                    for unit in String(ch).utf16 { out += String(format: "\\u%04x", unit) }
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        return out + "\""
    }

    /// One command line as `redis-cli` reads it: arguments quoted where needed.
    public static func redisCLILine(_ args: [String]) -> String {
        args.map { a in
            let plain =
                !a.isEmpty
                && a.utf8.allSatisfy {
                    $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'")
                        && $0 != UInt8(ascii: "\\")
                }
            if plain { return a }
            var q = "\""
            for ch in a.unicodeScalars {
                switch ch {
                case "\"": q += "\\\""
                case "\\": q += "\\\\"
                case "\n": q += "\\n"
                case "\r": q += "\\r"
                case "\t": q += "\\t"
                default:
                    if ch.value < 0x20 || ch.value == 0x7F {
                        q += String(format: "\\x%02x", ch.value)
                    } else if (0x80...0x9F).contains(ch.value) {
                        // C1 controls (e.g. U+009B, a CSI to some terminals): their UTF-8 bytes, escaped.
                        for b in String(ch).utf8 { q += String(format: "\\x%02x", b) }
                    } else {
                        q.unicodeScalars.append(ch)
                    }
                }
            }
            return q + "\""
        }.joined(separator: " ")
    }
}
