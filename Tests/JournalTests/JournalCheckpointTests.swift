import Foundation
import Journal
import Model
import Testing

/// SQLite checkpointed the WAL inside whichever commit crossed 1,000 pages: in a cold start a
/// batch's `batchWritten` record waited ~140 ms for that copy and its fsync, and with it the
/// batch (one run in three held a third of the batches back until the dump's end). Records never
/// checkpoint now short of 32 MiB; the writer does it when the event loop is idle.
@Suite struct JournalCheckpointTests {
    typealias T = JournalTests

    @Test func recordsLeaveTheCheckpointToTheIdleMoment() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        let j = try Journal(path: path)
        // ~8 MiB of records: twice SQLite's own 1,000-page mark, a quarter of the forced one.
        for id in 1...300 {
            let changes = (0..<1000).map { i -> Change in .set(T.key(id * 1000 + i), T.entry(i)) }
            try j.record(.batchWritten(Batch(id: UInt64(id), changes: changes)), now: 1, housekeeping: false)
        }
        let walBefore = try size(path + "-wal")
        let fileBefore = try size(path)
        #expect(walBefore > 6 << 20, "the WAL was checkpointed inside a record: \(walBefore) bytes")

        try j.checkpointIfDue()
        #expect(try size(path) > fileBefore + (4 << 20), "the checkpoint did not copy the WAL into the file")
    }

    private func size(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
