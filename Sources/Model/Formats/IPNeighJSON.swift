import Foundation

/// The kernel's neighbor table as `ip -j neigh show [nud all]` prints it:
/// `[{"dst": "10.0.0.2", "dev": "Ethernet0", "lladdr": "…", "state": ["REACHABLE"], …}]`.
public enum IPNeighJSON {
    /// Parses the file. Bad entries are reported and skipped; the rest is returned.
    public static func parse(_ data: Data, source: String) throws(SnapshotFormatError)
        -> (table: [NeighborKey: KernelNeighbor], issues: [SnapshotIssue])
    {
        let top: Any
        do { top = try JSONSerialization.jsonObject(with: data) } catch {
            throw SnapshotFormatError(source: source, reason: "not JSON: \(error.localizedDescription)")
        }
        guard let list = top as? [Any] else {
            throw SnapshotFormatError(source: source, reason: "expected a JSON array as printed by `ip -j neigh show`")
        }
        var table: [NeighborKey: KernelNeighbor] = [:]
        var issues: [SnapshotIssue] = []
        for (i, item) in list.enumerated() {
            switch entry(item) {
            case .success(let (key, n)): table[key] = n
            case .failure(let why):
                issues.append(SnapshotIssue(source: source, item: "entry \(i) \(summary(item))", reason: why.text))
            }
        }
        return (table, issues)
    }

    struct Reason: Error { let text: String }

    static func entry(_ item: Any) -> Result<(NeighborKey, KernelNeighbor), Reason> {
        guard let o = item as? [String: Any] else { return .failure(Reason(text: "not an object")) }
        guard let dst = o["dst"] as? String, let ip = IPAddress(dst) else {
            return .failure(Reason(text: "missing or invalid \"dst\""))
        }
        guard let dev = o["dev"] as? String, let name = InterfaceName(dev) else {
            return .failure(Reason(text: "missing or invalid \"dev\""))
        }
        var lladdr = LinkLayerAddress.absent
        if let text = o["lladdr"] as? String {
            if let mac = MACAddress(text) {
                lladdr = .mac(mac)
            } else {
                // Tunnel neighbors print e.g. a 4-byte address; keep its length as the kernel would.
                let bytes = text.split(separator: ":").count
                lladdr = .otherLength(text.isEmpty ? 0 : bytes)
            }
        }
        var state = NUDState.none
        var flags: NeighborFlags = []
        let states = (o["state"] as? [Any]) ?? []
        var raw: UInt16 = 0
        for s in states {
            guard let name = s as? String else { continue }
            if name == "extern_learn" { flags.insert(.extLearned); continue }
            guard let st = NUDState(name: name) else { return .failure(Reason(text: "unknown state \"\(name)\"")) }
            raw |= st.rawValue
        }
        state = NUDState(rawValue: raw)
        if o.keys.contains("router") { flags.insert(.router) }
        if o.keys.contains("extern_learn") { flags.insert(.extLearned) }
        return .success((NeighborKey(interface: name, ip: ip), KernelNeighbor(linkLayerAddress: lladdr, state: state, flags: flags)))
    }

    static func summary(_ item: Any) -> String {
        guard let d = try? JSONSerialization.data(withJSONObject: item, options: [.sortedKeys, .fragmentsAllowed]),
              let s = String(data: d, encoding: .utf8) else { return "" }
        return s.count > 120 ? String(s.prefix(117)) + "..." : s
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
