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
    @Test func aFoldWaitsForTheLoopToBeIdle() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-fold-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = try Journal(path: dir.appendingPathComponent("j.sqlite").path)
        let writer = try JournalWriter(journal: journal) { Issue.record("journal error: \($0)") }
        defer { writer.finish() }

        // More acknowledged records than the fold's floor: a fold is due.
        let batch = Batch(
            id: 1,
            changes: (0..<5000).map {
                .set(
                    NeighborKey(interface: InterfaceName("Ethernet0")!, ip: IPAddress(ipv4: 0x0A00_0000 | UInt32($0))),
                    NeighborEntry(mac: MACAddress(rawValue: UInt64($0)), family: .ipv4)
                )
            }
        )
        _ = writer.submit(.batchWritten(batch))
        _ = writer.submit(.batchApplied(batch))
        #expect(wait { writer.idle }, "the records were not written")

        // Six times the quiet time with nothing submitted, but the loop never said it was idle.
        Thread.sleep(forTimeInterval: 0.3)
        #expect(writer.folds == 0, "a fold ran while the event loop was busy")

        writer.loopIsIdle()
        #expect(wait { writer.folds == 1 }, "no fold once the loop was idle")
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
