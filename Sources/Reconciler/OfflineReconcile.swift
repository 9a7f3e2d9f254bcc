import Foundation
import Model

/// Reconciles saved snapshots: an `ip -j neigh` kernel table, an APPL_DB dump and an optional
/// CONFIG_DB dump (both `sonic-db-dump` JSON). Pure: the caller reads the files.
public struct OfflineReconcile: Sendable {
    public var plan: Plan
    /// Entries that had to be skipped, each naming its file and entry: the plan may lack a change
    /// or hold a wrong one (a kernel entry skipped makes the plan DEL a live neighbor).
    public var issues: [SnapshotIssue]
    /// Malformed store entries, each named too, that the plan repairs (DEL or a replacing SET).
    public var repairs: [SnapshotIssue]
    /// Entries kept but doubtful (a key given twice, an unrecognised setting), each named too.
    public var warnings: [SnapshotIssue]

    public init(
        kernel: (data: Data, name: String),
        store: (data: Data, name: String),
        configDB: (data: Data, name: String)?
    ) throws(SnapshotFormatError) {
        var issues: [SnapshotIssue] = []
        var warnings: [SnapshotIssue] = []
        var policy = Policy()
        if let c = configDB {
            let parsed = try RedisDump.parse(c.data, source: c.name)
            let hashes = RedisDump.hashes(parsed.values)
            issues += parsed.issues
            warnings += parsed.warnings + Policy.doubtfulSettings(configDB: hashes, source: c.name)
            policy = Policy(configDB: hashes)
        }
        // The two files are independent and take about as long each: read them at once.
        let (kernelRead, storeRead) = concurrently(
            { Result { () throws(SnapshotFormatError) in try IPNeighJSON.parse(kernel.data, source: kernel.name) } },
            {
                Result { () throws(SnapshotFormatError) in
                    try NeighTableContent.snapshot(dump: store.data, source: store.name)
                }
            }
        )
        let k = try kernelRead.get()
        issues += k.issues
        warnings += k.warnings
        let store = try storeRead.get()
        issues += store.issues.filter { !$0.isRepaired }
        warnings += store.warnings

        // The desired entries are derived from the kernel table as the daemon derives them, not stored.
        let desired = { (key: NeighborKey, n: KernelNeighbor) in desiredEntry(for: key, n, policy: policy) }
        self.plan = diff(over: k.table, entry: desired, actual: store.snapshot)
        self.issues = issues.sorted(by: SnapshotIssue.inFileOrder)
        self.repairs = store.issues.filter(\.isRepaired).sorted(by: SnapshotIssue.inFileOrder)
        self.warnings = warnings.sorted(by: SnapshotIssue.inFileOrder)
    }
}

/// Runs two computations on two threads and returns both results once both are done.
private func concurrently<A, B>(_ a: () -> A, _ b: () -> B) -> (A, B) {
    let results = Results<A, B>()
    withoutActuallyEscaping(a) { a in
        withoutActuallyEscaping(b) { b in
            let (a, b) = (UncheckedSendable(a), UncheckedSendable(b))
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                if i == 0 { results.a = a.value() } else { results.b = b.value() }
            }
        }
    }
    guard let ra = results.a, let rb = results.b else { preconditionFailure("concurrentPerform runs every iteration") }
    return (ra, rb)
}

/// Each slot is written by one thread and read after `concurrentPerform` has joined both.
private final class Results<A, B>: @unchecked Sendable {
    var a: A?
    var b: B?
}
