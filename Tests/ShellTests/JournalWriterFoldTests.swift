import Foundation
import Journal
import Model
import Shell
import Testing

/// A fold of the store view takes ~100 ms for 100,000 neighbors, and a batch whose record is
/// queued behind it waits that long. It must wait for the event loop to say it is idle: in a cold
/// start the loop once spent 100 ms computing the dump's resync without a record, a fold began,
/// and the next batches waited for it (~100 ms on an ~900 ms cold start).
@Suite struct JournalWriterFoldTests {
    /// Idle once and then busy again (a turn with events and no record yet, such as a dump's end
    /// computing its resync) counts as busy. That case gets a quiet time of a second, so the test
    /// says busy well within it however slowly its thread runs.
    @Test(arguments: [false, true]) func aFoldWaitsForTheLoopToBeIdle(idleThenBusy: Bool) throws {
        let (dir, journal) = try Self.journal()
        defer { try? FileManager.default.removeItem(at: dir) }
        let quiet = idleThenBusy ? 1000 : 50
        let writer = try JournalWriter(journal: journal, quietMilliseconds: quiet) {
            Issue.record("journal error: \($0)")
        }
        defer { writer.finish() }

        // More acknowledged records than the fold's floor: a fold is due.
        let batch = Self.batch(id: 1, count: 5000)
        _ = writer.submit(.batchWritten(batch))
        _ = writer.submit(.batchApplied(batch))
        #expect(wait { writer.idle }, "the records were not written")

        if idleThenBusy {
            writer.loopIsIdle()
            writer.loopIsBusy()
        }
        // Past the quiet time with nothing submitted, but the loop is not idle.
        Thread.sleep(forTimeInterval: Double(quiet) * 1.5 / 1000 + 0.2)
        #expect(writer.folds == 0, "a fold ran while the event loop was busy")

        writer.loopIsIdle()
        #expect(wait { writer.folds == 1 }, "no fold once the loop was idle")
    }

    /// The WAL is copied into the file at the idle moment, not inside a batch's commit.
    @Test func theWALIsCheckpointedWhenTheLoopIsIdle() throws {
        let (dir, journal) = try Self.journal()
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try JournalWriter(journal: journal) { Issue.record("journal error: \($0)") }
        defer { writer.finish() }
        // Over 6 MiB of WAL (short of the 32 MiB where SQLite checkpoints by itself) from records of
        // one change each, as a steady trickle writes them.
        let path = journal.path
        var id: UInt64 = 0
        while Self.size(path + "-wal") <= 6 << 20 && id < 50_000 {
            for _ in 0..<100 {
                id += 1
                _ = writer.submit(.batchWritten(Self.batch(id: id, count: 1)))
            }
            #expect(wait { writer.idle }, "the records were not written")
        }
        #expect(Self.size(path + "-wal") > 6 << 20, "checkpointed inside a commit")
        #expect(writer.checkpoints == 0)

        writer.loopIsIdle()
        #expect(wait { writer.checkpoints == 1 }, "no checkpoint once the loop was idle")
        // Checkpointed: the next commit starts the WAL over, cut back to journal_size_limit.
        _ = writer.submit(.batchWritten(Self.batch(id: id + 1, count: 1)))
        #expect(wait { writer.idle && Self.size(path + "-wal") <= 1 << 20 }, "the WAL was not started over")
    }

    static func journal() throws -> (URL, Journal) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-fold-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return (dir, try Journal(path: dir.appendingPathComponent("j.sqlite").path))
    }

    static func batch(id: UInt64, count: Int) -> Batch {
        Batch(
            id: id,
            changes: (0..<count).map {
                let ip = IPAddress(ipv4: 0x0A00_0000 | UInt32(truncatingIfNeeded: Int(id) * count + $0))
                return .set(
                    NeighborKey(interface: InterfaceName("Ethernet0")!, ip: ip),
                    NeighborEntry(mac: MACAddress(rawValue: UInt64($0)), family: .ipv4)
                )
            }
        )
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// Polls `condition` for up to 10 s (a loaded CI machine is slow, never this slow).
    private func wait(_ condition: () -> Bool) -> Bool {
        for _ in 0..<2000 {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return condition()
    }
}
