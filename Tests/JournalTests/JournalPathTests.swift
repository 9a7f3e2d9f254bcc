import Foundation
import Glibc
import Journal
import Model
import Testing

/// Issue 11 security findings on the journal's files: a symbolic link at the journal's path (or
/// its side files, or its lock) is refused, never followed, so a planted link cannot make the
/// daemon create or write a file elsewhere; modes are set, not left to the umask.
@Suite struct JournalPathTests {
    typealias T = JournalTests

    static func mode(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & 0o777 : 0o7777
    }

    @Test func aSymbolicLinkIsRefusedAndNothingIsCreatedThroughIt() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("elsewhere.sqlite").path
        let link = dir.appendingPathComponent("j.sqlite").path
        #expect(symlink(target, link) == 0)  // dangling
        #expect { try Journal(path: link) } throws: { ($0 as? JournalError)?.kind == .unsafePath }
        var notes: [String] = []
        #expect(try Journal.openForDaemon(path: link, durability: .normal, now: 1) { notes.append($0) } == nil)
        #expect(notes.contains { $0.contains("is a symbolic link; refusing to follow it") }, "\(notes)")
        #expect(!FileManager.default.fileExists(atPath: target), "the link's target was created")
        #expect { try JournalReader(path: link) } throws: { ($0 as? JournalError)?.kind == .unsafePath }
        // A link to a real journal is refused as well: one rule, whatever the link points at.
        _ = try Journal(path: target)
        #expect { try Journal(path: link) } throws: { ($0 as? JournalError)?.kind == .unsafePath }
    }

    @Test func aSymbolicLinkAsASideFileOrTheLockIsRefused() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let victim = dir.appendingPathComponent("victim").path
        for suffix in ["-wal", "-shm", ".lock"] {
            let path = dir.appendingPathComponent("j\(suffix.dropFirst()).sqlite").path
            #expect(symlink(victim, path + suffix) == 0)
            #expect("\(suffix)") { try Journal(path: path) } throws: { ($0 as? JournalError)?.kind == .unsafePath }
            #expect(!FileManager.default.fileExists(atPath: victim), "\(suffix): the link's target was created")
        }
    }

    /// `snapshot --out` onto a dangling link: refused as an existing file (before any Redis work).
    @Test func snapshotRefusesADanglingLink() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("elsewhere.sqlite").path
        let link = dir.appendingPathComponent("snap.sqlite").path
        #expect(symlink(target, link) == 0)
        let r = try JournalReadOnlyTests.run(["snapshot", "--out", link])
        #expect(r.status == 2 && r.stderr.contains("exists; not overwriting it"), "exit \(r.status): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    /// A journal someone made 0644: opened, it is made 0600, and so are its WAL and WAL index
    /// (SQLite gives them the journal's mode). (The folders: `PrivateFolder`, tested with it.)
    @Test func modesAreSetNotInherited() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        try Journal(path: path).checkpoint()
        chmod(path, 0o644)
        let j = try Journal(path: path)
        try j.record(.batchApplied(Batch(id: 1, changes: [.set(T.key(1), T.entry(1))])), now: 1)
        for p in [path, path + "-wal", path + "-shm", path + ".lock"] {
            #expect(Self.mode(p) == 0o600, "\(p): \(String(Self.mode(p), radix: 8))")
        }
        withExtendedLifetime(j) {}
    }
}
