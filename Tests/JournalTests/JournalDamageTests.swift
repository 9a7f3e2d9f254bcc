import Foundation
import Glibc
import Journal
import Model
import Testing

/// Issue 11 defect 2: every number in the file is untrusted. A count the BLOB cannot hold, a
/// negative or non-integer column, a truncated BLOB: a typed `corrupt` error for the readers,
/// and for the daemon a file set aside and a cold start, never a crash (before the fix a huge
/// count reserved that much memory and aborted, and Int64.max overflowed and trapped).
@Suite struct JournalDamageTests {
    typealias T = JournalTests

    /// A journal like the daemon's after a clean exit: store view, dump, one delta, one batch in flight.
    static func pristine(in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("pristine.sqlite").path
        let j = try Journal(path: path)
        try j.record(.storeReloaded(StoreSnapshot(valid: [T.key(1): T.entry(1), T.key(2): T.entry(2)])), now: 1)
        try j.record(.desiredReplaced((0..<5).map { DesiredEntry(T.key($0), T.entry($0)) }), now: 1)
        let b1 = Batch(id: 1, changes: [.set(T.key(3), T.entry(3)), .del(T.key(2))])
        let b2 = Batch(id: 2, changes: [.set(T.key(4), T.entry(4))])
        for r in [JournalRecord.batchWritten(b1), .batchApplied(b1), .batchWritten(b2)] { try j.record(r, now: 2) }
        try j.checkpoint()
        return path
    }

    static let damages: [(name: String, sql: String, seenByDaemon: Bool)] = [
        ("huge count on the store view", "UPDATE view SET count = 2000000000 WHERE name = 'actual'", true),
        ("huge count on a delta", "UPDATE delta SET count = 2000000000", true),
        ("Int64.max on the desired view", "UPDATE view SET count = 9223372036854775807 WHERE name = 'desired'", false),
        ("Int64.max on the store view", "UPDATE view SET count = 9223372036854775807 WHERE name = 'actual'", true),
        ("negative count", "UPDATE view SET count = -1 WHERE name = 'actual'", true),
        ("count one more than the records", "UPDATE view SET count = count + 1 WHERE name = 'actual'", true),
        ("count one less than the records", "UPDATE delta SET count = count - 1", true),
        (
            "truncated store view",
            "UPDATE view SET records = substr(records, 1, length(records) - 4) WHERE name = 'actual'", true
        ),
        ("truncated batch in flight", "UPDATE inflight SET records = substr(records, 1, length(records) - 1)", true),
        ("records as text", "UPDATE view SET records = 'abc' WHERE name = 'actual'", true),
        ("count as text", "UPDATE delta SET count = 'many'", true),
        ("records NULL-free but an integer", "UPDATE inflight SET records = 42", true),
        ("negative batch number", "UPDATE inflight SET batch = -5", true),
        ("batch number as text", "UPDATE delta SET batch = 'x'", true),
        ("last_batch not a number", "UPDATE meta SET value = 'lots' WHERE key = 'last_batch'", true),
    ]

    @Test func eachDamageIsCorruptForTheReaders() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pristine = try Self.pristine(in: dir)
        // The dump, then batch 1 (key 3 set, key 2 deleted) and batch 2 (key 4 set) folded in.
        #expect(Set(try JournalReader(path: pristine).load().desired.keys) == Set([0, 1, 3, 4].map(T.key)))
        for (i, d) in Self.damages.enumerated() {
            let path = dir.appendingPathComponent("d\(i).sqlite").path
            try FileManager.default.copyItem(atPath: pristine, toPath: path)
            try T.sqlite(path, d.sql)
            #expect("\(d.name)") { _ = try JournalReader(path: path).load() } throws: {
                ($0 as? JournalError)?.kind == .corrupt
            }
        }
    }

    /// The daemon's path: the damaged file is set aside, a new journal is started, the image is
    /// empty (cold start). Includes damage that opens cleanly and fails only on load, which the
    /// daemon used to log and then keep writing into.
    @Test func eachDamageIsSetAsideByTheDaemon() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pristine = try Self.pristine(in: dir)
        for (i, d) in Self.damages.enumerated() where d.seenByDaemon {
            let path = dir.appendingPathComponent("d\(i).sqlite").path
            try FileManager.default.copyItem(atPath: pristine, toPath: path)
            try T.sqlite(path, d.sql)
            var notes: [String] = []
            let opened = try Journal.openForDaemon(path: path, durability: .normal, now: 42) { notes.append($0) }
            #expect(opened?.image == JournalImage.empty, "\(d.name): \(notes)")
            #expect(FileManager.default.fileExists(atPath: path + ".bad-42"), "\(d.name): not set aside: \(notes)")
            let setAside =
                notes.contains { $0.contains("corrupt") }
                && notes.contains { $0.contains("set the bad file aside") }
            #expect(setAside, "\(d.name): \(notes)")
            // The new journal works.
            try opened?.journal.record(.batchApplied(Batch(id: 1, changes: [.set(T.key(9), T.entry(9))])), now: 3)
            #expect(try opened?.journal.load().actual.entries.count == 1)
        }
    }
}
