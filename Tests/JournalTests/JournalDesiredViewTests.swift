import Foundation
import Glibc
import Journal
import Model
import Reconciler
import Testing

/// Issue 11 defect 6: `run`, add a neighbor, SIGTERM, `reconcile --journal J` planned a DEL of
/// the live neighbor (with 150 adds and one delete: `1 set, 150 del`). The desired view was the
/// last dump's while the store view moved with every acknowledged batch. Now the desired view
/// takes in every batch written since the dump, so both are views of the same moment.
@Suite struct JournalDesiredViewTests {
    typealias T = JournalTests

    /// The core itself, its journal records written to a real journal: start, store read, a
    /// dump of `existing`, then the kernel adds `added` and deletes `deleted` one by one, each
    /// change flushed and acknowledged, then SIGTERM.
    static func daemonJournal(at path: String, existing: [Int], added: [Int], deleted: [Int]) throws {
        let journal = try Journal(path: path)
        var state = DaemonState()
        var queue: [Event] = [.started(StartupConfig(warmStart: false))]
        func message(_ type: NeighborMessageType, _ i: Int) -> Event {
            let k = T.key(i)
            let state: NUDState = type == .newNeighbor ? .reachable : .none
            return .kernelMessage(
                NeighborMessage(
                    type: type,
                    family: KernelFamily.inet,
                    interface: k.interface,
                    destination: k.ip,
                    linkLayerAddress: .mac(T.entry(i).mac),
                    state: state
                )
            )
        }
        func drain() throws {
            while !queue.isEmpty {
                for effect in step(&state, queue.removeFirst()) {
                    switch effect {
                    case .journal(let r): try journal.record(r, now: 1)
                    case .loadStore: queue.append(.storeLoaded(StoreSnapshot()))
                    case .requestKernelDump:
                        queue += existing.map { message(.newNeighbor, $0) } + [.kernelDumpDone(interrupted: false)]
                    case .write(let b): queue.append(.batchAcknowledged(id: b.id))
                    case .armTimer(.flush, _): queue.append(.timerFired(.flush))
                    default: break
                    }
                }
            }
        }
        try drain()
        for i in added {
            queue.append(message(.newNeighbor, i))
            try drain()
        }
        for i in deleted {
            queue.append(message(.deleteNeighbor, i))
            try drain()
        }
        queue.append(.shutdownRequested)
        try drain()
        try journal.checkpoint()
    }

    static func plan(_ path: String) throws -> Plan {
        let image = try JournalReader(path: path).load()
        return diff(desired: image.desired, actual: image.actual)
    }

    @Test func oneNeighborAddedAfterTheDumpIsNoDel() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        try Self.daemonJournal(at: path, existing: [1, 2, 3], added: [4], deleted: [])
        #expect(
            try JournalReader(path: path).load().actual.entries.count == 4,
            "the scenario did not run as the daemon's"
        )
        let plan = try Self.plan(path)
        #expect(plan.isEmpty, "\(plan.sorted)")
    }

    @Test func manyAddsAndOneDeleteAfterTheDumpIsNoPlan() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        try Self.daemonJournal(at: path, existing: [1, 2], added: Array(100..<250), deleted: [1])
        #expect(try JournalReader(path: path).load().actual.entries.count == 151)
        let plan = try Self.plan(path)
        #expect(plan.isEmpty, "\(plan.sorted)")
        // The command: nothing to do, exit 0.
        let r = try JournalReadOnlyTests.run(["reconcile", "--journal", path])
        #expect(r.status == 0 && r.stdout.hasPrefix("0 set, 0 del"), "exit \(r.status): \(r.stdout) \(r.stderr)")
    }

    /// Batches folded into the store view (compaction) or dropped by a store read must not be
    /// lost to the desired view: it is folded first.
    @Test func compactionAndStoreReadsKeepTheDesiredViewCurrent() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        let j = try Journal(path: path)
        var image = JournalImage.empty
        func record(_ r: JournalRecord) throws {
            try j.record(r, now: 1)
            image.apply(r)
        }
        try record(.storeReloaded(StoreSnapshot()))
        try record(.desiredReplaced([DesiredEntry(T.key(0), T.entry(0))]))
        for b in 1...6 {  // 6 × 1,000 records: past the compaction floor of 4,096
            let batch = Batch(id: UInt64(b), changes: (0..<1000).map { .set(T.key(b * 1000 + $0), T.entry($0)) })
            try record(.batchWritten(batch))
            try record(.batchApplied(batch))
        }
        #expect(try T.query(path, "SELECT count(*) FROM delta") != "6", "no compaction happened")
        try record(.batchWritten(Batch(id: 7, changes: [.del(T.key(0))])))
        try record(.storeReloaded(StoreSnapshot(valid: [T.key(1): T.entry(1)])))
        #expect(try JournalReader(path: path).load() == image)
        #expect(image.desired.count == 6000 && image.desired[T.key(0)] == nil)
    }

    /// A journal with no dump recorded has no desired view: `reconcile --journal` says so (exit 2)
    /// rather than planning to delete the whole store.
    @Test func noDumpNoPlan() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        try Journal(path: path).record(.storeReloaded(StoreSnapshot(valid: [T.key(1): T.entry(1)])), now: 1)
        let r = try JournalReadOnlyTests.run(["reconcile", "--journal", path])
        #expect(
            r.status == 2 && r.stderr.contains("no kernel dump recorded yet"),
            "exit \(r.status): \(r.stdout) \(r.stderr)"
        )
    }
}
