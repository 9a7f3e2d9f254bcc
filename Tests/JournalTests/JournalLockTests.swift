import Foundation
import Glibc
import Journal
import Model
import Testing

/// Issue 11 defect 5: two daemons on one journal both ran and both wrote every change. The
/// writer holds `flock` on `<journal>.lock` for its life; a second writer is refused, naming the
/// first one's pid. (flock belongs to the open file description, so two opens in one process
/// conflict too.) Readers take no lock.
@Suite struct JournalLockTests {
    typealias T = JournalTests

    @Test func aSecondWriterIsRefusedAndReadersStillRead() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        var first: Journal? = try Journal(path: path)
        try first?.record(.desiredReplaced([DesiredEntry(T.key(1), T.entry(1))]), now: 1)
        #expect { try Journal(path: path) } throws: { error in
            guard let e = error as? JournalError, e.kind == .inUse else { return false }
            return "\(e)" == "journal \(path) is in use by another neighsyncd (pid \(getpid()))"
        }
        // The daemon's path: refused too, and the file is not set aside.
        var notes: [String] = []
        #expect { try Journal.openForDaemon(path: path, durability: .normal, now: 42) { notes.append($0) } } throws: {
            ($0 as? JournalError)?.kind == .inUse
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".bad-42"), "\(notes)")
        #expect(try JournalReader(path: path).load().desired.count == 1)
        first = nil  // the lock goes with the journal
        #expect(try Journal(path: path).load().desired.count == 1)
    }

    /// `neighsyncd run` on a journal this process holds: exit 1 with the one line, before it
    /// touches Redis or netlink.
    @Test func theDaemonRefusesAJournalInUse() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        let held = try Journal(path: path)
        let noConfig = dir.appendingPathComponent("none.json").path
        let r = try JournalReadOnlyTests.run([
            "run", "--journal", path, "--no-syslog", "--no-metrics", "--db-config", noConfig,
        ])
        #expect(r.status == 1)
        #expect(
            r.stderr.contains("ERROR journal \(path) is in use by another neighsyncd (pid \(getpid()))"),
            "\(r.stderr)"
        )
        withExtendedLifetime(held) {}
    }
}
