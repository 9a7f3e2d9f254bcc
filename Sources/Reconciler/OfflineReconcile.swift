import Foundation
import Model

/// Reconciles saved snapshots: an `ip -j neigh` kernel table, an APPL_DB dump and an optional
/// CONFIG_DB dump (both `sonic-db-dump` JSON). Pure: the caller reads the files.
public struct OfflineReconcile: Sendable {
    public var plan: Plan
    /// Entries that were skipped or will be repaired, each naming its file and entry.
    public var issues: [SnapshotIssue]

    public init(kernel: (data: Data, name: String), store: (data: Data, name: String),
                configDB: (data: Data, name: String)?) throws(SnapshotFormatError)
    {
        var issues: [SnapshotIssue] = []
        var policy = Policy()
        if let c = configDB {
            let parsed = try RedisDump.parse(c.data, source: c.name)
            issues += parsed.issues
            policy = Policy(configDB: RedisDump.hashes(parsed.values))
        }
        let k = try IPNeighJSON.parse(kernel.data, source: kernel.name)
        issues += k.issues
        let s = try RedisDump.parse(store.data, source: store.name)
        issues += s.issues
        let store = NeighTableContent(appDB: s.values).snapshot(source: store.name)
        issues += store.issues

        var desired: [NeighborKey: NeighborEntry] = [:]
        desired.reserveCapacity(k.table.count)
        for (key, n) in k.table {
            if let e = desiredEntry(for: key, n, policy: policy) { desired[key] = e }
        }
        self.plan = diff(desired: desired, actual: store.snapshot)
        self.issues = issues.sorted { ($0.source, $0.item) < ($1.source, $1.item) }
    }
}
