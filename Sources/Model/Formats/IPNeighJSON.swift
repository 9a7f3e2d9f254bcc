import Foundation

/// The kernel's neighbor table as `ip -j neigh show [nud all]` prints it:
/// `[{"dst": "10.0.0.2", "dev": "Ethernet0", "lladdr": "…", "state": ["REACHABLE"], …}]`.
public enum IPNeighJSON {
    /// A file's good entries, its bad ones (skipped) and its doubtful ones (kept, with a warning).
    public typealias Parsed = (table: [NeighborKey: KernelNeighbor], issues: [SnapshotIssue], warnings: [SnapshotIssue])

    /// Parses a file. An entry of the wrong shape is reported and skipped; the rest is returned.
    /// A second entry for the same dst and dev replaces the first, with a warning.
    public static func parse(_ bytes: some Collection<UInt8>, source: String) throws(SnapshotFormatError) -> Parsed {
        let result =
            bytes.withContiguousStorageIfAvailable { parse(UnsafeRawBufferPointer($0), source: source) }
            ?? Array(bytes).withUnsafeBytes { parse($0, source: source) }
        return try result.get()
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, source: String) -> Result<Parsed, SnapshotFormatError> {
        var reader = JSONReader(bytes)
        var parsed: Parsed = ([:], [], [])
        do {
            let top = try reader.peek()
            guard top == .array else {
                let expected = "expected a JSON array of neighbor entries (as `ip -j neigh show` prints)"
                return .failure(SnapshotFormatError(source: source, reason: "\(expected), found \(top.named)"))
            }
            // `ip -j` prints at least ~80 bytes an entry: room for all of them, without the dozen
            // rehashes growing one entry at a time takes (a pretty-printed file over-reserves).
            parsed.table.reserveCapacity(bytes.count / 96)
            var list = try reader.beginArray()
            var index = 0
            while try reader.next(in: &list) {
                defer { index += 1 }
                let start = reader.offset
                let entry = try Entry.read(&reader)
                func report(_ reason: String) -> SnapshotIssue {
                    let item = "entry \(index) \(summary(reader.text(from: start)))"
                    return SnapshotIssue(source: source, item: item, reason: reason, position: index)
                }
                switch entry.judged() {
                case .failure(let why):
                    parsed.issues.append(report(why.text))
                case .success(let (key, neighbor)):
                    if parsed.table.updateValue(neighbor, forKey: key) != nil {
                        parsed.warnings.append(report("a second entry for \(key); it replaces the earlier one"))
                    }
                    for name in entry.repeatedFields {
                        parsed.warnings.append(report("\"\(name)\" appears more than once; the last one is used"))
                    }
                }
            }
            try reader.finish()
        } catch {
            return .failure(SnapshotFormatError(source: source, reason: error.description))
        }
        return .success(parsed)
    }

    struct Reason: Error { let text: String }

    /// One entry's fields as read, before judging them. Only the first problem is kept.
    struct Entry {
        var problem: String?
        var dst: String?
        var dev: String?
        var lladdr: String?
        var state = NUDState.none
        var flags: NeighborFlags = []
        var repeatedFields: [String] = []

        static let knownFields = ["dst", "dev", "lladdr", "state", "router", "extern_learn"]

        static func read(_ r: inout JSONReader) throws(JSONError) -> Entry {
            var e = Entry()
            let kind = try r.peek()
            guard kind == .object else {
                try r.skipValue()
                e.note("not an object (found \(kind.named))")
                return e
            }
            var object = try r.beginObject()
            var seen: UInt8 = 0  // a bit per known field
            while let key = try r.nextKey(in: &object) {
                guard let bit = knownFields.firstIndex(of: key) else {
                    try r.skipValue()
                    continue
                }
                if seen & 1 << bit != 0 { e.repeatedFields.append(key) }
                seen |= 1 << bit
                switch key {
                case "dst": e.dst = try e.string(key, &r)
                case "dev": e.dev = try e.string(key, &r)
                case "lladdr": e.lladdr = try e.string(key, &r)
                case "state": try e.readStates(&r)
                case "router":
                    e.flags.insert(.router)
                    try r.skipValue()  // ip prints `"router": null`
                default:
                    e.flags.insert(.extLearned)
                    try r.skipValue()
                }
            }
            return e
        }

        mutating func note(_ problem: String) {
            if self.problem == nil { self.problem = problem }
        }

        mutating func string(_ name: String, _ r: inout JSONReader) throws(JSONError) -> String? {
            let kind = try r.peek()
            guard kind == .string else {
                try r.skipValue()
                note("\"\(name)\" is not a string (found \(kind.named))")
                return nil
            }
            return try r.readString()
        }

        /// `"state": ["REACHABLE"]`; `ip` leaves the field out for NUD_NONE, so no field is NONE.
        mutating func readStates(_ r: inout JSONReader) throws(JSONError) {
            let kind = try r.peek()
            guard kind == .array else {
                try r.skipValue()
                return note("\"state\" is not an array of state names (found \(kind.named))")
            }
            var raw: UInt16 = 0
            var list = try r.beginArray()
            while try r.next(in: &list) {
                let k = try r.peek()
                guard k == .string else {
                    try r.skipValue()
                    note("\"state\" holds \(k.named), not a state name")
                    continue
                }
                let name = try r.readString()
                if name == "extern_learn" {
                    flags.insert(.extLearned)
                    continue
                }
                // As `ip` prints them first (no upper-casing per entry), then in any case.
                guard let s = NUDState.names.first(where: { $0.1 == name })?.0 ?? NUDState(name: name) else {
                    note("unknown state \"\(name)\"")
                    continue
                }
                raw |= s.rawValue
            }
            state = NUDState(rawValue: raw)
        }

        func judged() -> Result<(NeighborKey, KernelNeighbor), Reason> {
            if let problem { return .failure(Reason(text: problem)) }
            guard let dst else { return .failure(Reason(text: "missing \"dst\"")) }
            // inet_pton would stop at a NUL and accept "10.0.0.1\0evil" as 10.0.0.1.
            guard !dst.hasControlCharacter, let ip = IPAddress(dst) else {
                return .failure(Reason(text: "invalid \"dst\" \"\(dst)\""))
            }
            guard let dev else { return .failure(Reason(text: "missing \"dev\"")) }
            guard let name = InterfaceName(dev) else { return .failure(Reason(text: "invalid \"dev\" \"\(dev)\"")) }
            var address = LinkLayerAddress.absent
            if let lladdr {
                guard !lladdr.hasControlCharacter else {
                    return .failure(Reason(text: "invalid \"lladdr\" \"\(lladdr)\""))
                }
                if let mac = MACAddress(lladdr) {
                    address = .mac(mac)
                } else {
                    // Tunnel neighbors print e.g. a 4-byte address; keep its length as the kernel would.
                    address = .otherLength(lladdr.isEmpty ? 0 : lladdr.split(separator: ":").count)
                }
            }
            let key = NeighborKey(interface: name, ip: ip)
            return .success((key, KernelNeighbor(linkLayerAddress: address, state: state, flags: flags)))
        }
    }

    /// An entry's text on one line, shortened: enough to find it in the file.
    static func summary(_ text: String) -> String {
        // Outside strings JSON has only white space between tokens, and inside them no raw newline.
        let line = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return line.count > 120 ? String(line.prefix(117)) + "..." : line
    }

    /// Prints a kernel table in the same format, sorted by key.
    public static func render(_ table: [NeighborKey: KernelNeighbor]) -> Data {
        let rows: [[String: Any]] = table.keys.sorted().map { k in
            let n = table[k]!
            var o: [String: Any] = ["dst": k.ip.description, "dev": k.interface.rawValue]
            if case .mac(let m) = n.linkLayerAddress { o["lladdr"] = m.description }
            var states: [String] = NUDState.names.compactMap { s, name in
                s.rawValue != 0 && n.state.rawValue & s.rawValue != 0 ? name : nil
            }
            if n.state == .none { states = ["NONE"] }
            if n.flags.contains(.router) { o["router"] = NSNull() }
            if n.flags.contains(.extLearned) { o["extern_learn"] = NSNull() }
            o["state"] = states
            return o
        }
        return (try? JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys])) ?? Data("[]".utf8)
    }
}

extension String {
    /// A C0 control character or DEL: never part of an address or a name.
    var hasControlCharacter: Bool { utf8.contains { $0 < 0x20 || $0 == 0x7F } }
}
