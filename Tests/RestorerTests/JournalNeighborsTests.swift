import Foundation
import Journal
import Model
import Restorer
import Testing

/// `restore --from-journal`'s source: the journal's acknowledged store view, read without a change.
struct JournalNeighborsTests {
    static func key(_ i: Int) -> NeighborKey {
        NeighborKey(interface: InterfaceName("Ethernet\(i)")!, ip: IPAddress(ipv4: 0x0A00_0000 | UInt32(i)))
    }
    static func entry(_ i: Int) -> NeighborEntry {
        NeighborEntry(mac: MACAddress(rawValue: 0x0200_0000_0000 | UInt64(i)), family: .ipv4)
    }

    /// Every file of `dir`, with its bytes.
    static func files(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            out[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return out
    }

    /// The store view, with the acknowledged batch and without the one in flight or the desired
    /// view's extra entry: an implementation that took the desired view would restore key 3 and 4.
    @Test func restoresTheAcknowledgedStoreViewAndChangesNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-jn-\(getpid())-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("journal.sqlite").path
        do {
            let j = try Journal(path: path)
            try j.record(.storeReloaded(StoreSnapshot(valid: [Self.key(1): Self.entry(1)])), now: 1)
            try j.record(.desiredReplaced((1...4).map { DesiredEntry(Self.key($0), Self.entry($0)) }), now: 1)
            let applied = Batch(id: 1, changes: [.set(Self.key(2), Self.entry(2))])
            try j.record(.batchWritten(applied), now: 2)
            try j.record(.batchApplied(applied), now: 2)
            try j.record(.batchWritten(Batch(id: 2, changes: [.set(Self.key(3), Self.entry(3))])), now: 3)
            try j.checkpoint()
        }
        let before = try Self.files(dir)
        let read = try JournalNeighbors(path: path)
        #expect(read.snapshot.entries == [Self.key(1): .valid(Self.entry(1)), Self.key(2): .valid(Self.entry(2))])
        #expect(read.lastAppliedAt == 2)
        #expect(try Self.files(dir) == before)
    }

    /// A file that is not a journal is an error naming it, not an empty restore.
    @Test func aFileThatIsNotAJournalIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-jn-\(getpid())-\(UUID())").path
        try Data("not a journal".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: JournalError.self) { try JournalNeighbors(path: path) }
        #expect(throws: JournalError.self) { try JournalNeighbors(path: path + ".missing") }
    }
}
