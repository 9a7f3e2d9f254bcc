import Foundation
import Glibc
import Journal
import Model
import Testing

/// Issue 11 defect 7: `status --journal` and `reconcile --journal` only read. Before the fix an
/// empty file became a 32 KiB journal, a schema-1 journal was migrated in place, a delete-mode
/// copy was switched to WAL, and a read-only journal in a read-only folder could not be read.
/// Each reader here is the real command; the folder's files (names, bytes, modification times)
/// must be the same after it as before.
@Suite struct JournalReadOnlyTests {
    typealias T = JournalTests

    /// Every file in `dir`: its bytes and modification time.
    static func fingerprint(_ dir: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            let p = dir.appendingPathComponent(name).path
            var st = stat()
            lstat(p, &st)
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: p))) ?? Data()
            let mtime = "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
            let mode = String(st.st_mode, radix: 8)
            out[name] = "\(bytes.count) bytes, hash \(bytes.hashValue), mtime \(mtime), mode \(mode)"
        }
        return out
    }

    static func run(_ argv: [String], as uid: uid_t? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        let out = Pipe()
        let err = Pipe()
        let neighsyncd = BuiltPrograms.neighsyncd
        p.executableURL = URL(fileURLWithPath: uid == nil ? neighsyncd : "/usr/bin/setpriv")
        p.arguments = uid.map { ["--reuid=\($0)", "--regid=\($0)", "--clear-groups", neighsyncd] + argv } ?? argv
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// A daemon-like journal: a store read, a dump, one acknowledged batch.
    static func writeJournal(_ path: String) throws {
        let j = try Journal(path: path)
        try j.record(.storeReloaded(StoreSnapshot(valid: [T.key(1): T.entry(1)])), now: 1)
        try j.record(
            .desiredReplaced([DesiredEntry(T.key(1), T.entry(1)), DesiredEntry(T.key(2), T.entry(2))]),
            now: 1
        )
        let b = Batch(id: 1, changes: [.set(T.key(2), T.entry(2))])
        try j.record(.batchWritten(b), now: 2)
        try j.record(.batchApplied(b), now: 2)
        try j.checkpoint()
    }

    /// What each kind of file is, and what the readers must say about it (nil: they read it).
    static func fixtures(in dir: URL) throws -> [(name: String, path: String, refusal: String?)] {
        let empty = dir.appendingPathComponent("empty.sqlite").path
        #expect(FileManager.default.createFile(atPath: empty, contents: nil))
        let schema1 = dir.appendingPathComponent("schema1.sqlite").path
        try T.sqlite(
            schema1,
            """
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE desired (key TEXT PRIMARY KEY, mac INTEGER NOT NULL, family INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE actual (key TEXT PRIMARY KEY, mac INTEGER, family INTEGER) WITHOUT ROWID;
            PRAGMA application_id = \(0x4E53_4A4C); PRAGMA user_version = 1;
            """
        )
        let deleteMode = dir.appendingPathComponent("delete.sqlite").path
        try writeJournal(deleteMode)
        try T.sqlite(deleteMode, "PRAGMA journal_mode=delete;")
        let current = dir.appendingPathComponent("current.sqlite").path
        try writeJournal(current)
        let text = dir.appendingPathComponent("text.sqlite").path
        try Data("not a journal\n".utf8).write(to: URL(fileURLWithPath: text))
        return [
            ("empty file", empty, "is an empty file, not a neighsyncd journal"),
            ("schema 1", schema1, "schema 1, this neighsyncd reads schema 4; run the daemon once to migrate"),
            ("delete mode", deleteMode, nil),
            ("current", current, nil),
            ("not SQLite", text, "is not a SQLite file"),
        ]
    }

    @Test func readersChangeNoByteOfAnyFile() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in try Self.fixtures(in: dir) {
            for argv in [["status", "--journal", f.path], ["reconcile", "--journal", f.path]] {
                let before = try Self.fingerprint(dir)
                let r = try Self.run(argv)
                #expect(try Self.fingerprint(dir) == before, "\(f.name): \(argv[0]) changed the folder")
                if let refusal = f.refusal {
                    // One line naming the file and what it is, exit 2.
                    #expect(r.stderr.contains(refusal), "\(f.name): \(argv[0]) said: \(r.stderr)")
                    #expect(r.stderr.split(separator: "\n").count == 1, "\(f.name): \(argv[0]) said: \(r.stderr)")
                    #expect(r.status == 2, "\(f.name): \(argv[0]) exit \(r.status)")
                } else if argv[0] == "reconcile" {
                    // The dump wanted keys 1 and 2, batch 1 set key 2: nothing left to do.
                    #expect(r.status == 0 && r.stderr.isEmpty, "\(f.name): exit \(r.status): \(r.stderr) \(r.stdout)")
                } else {
                    #expect(r.stdout.contains("last batch 1"), "\(f.name): \(r.stdout) \(r.stderr)")
                }
            }
        }
    }

    /// A journal the daemon holds open (its `-wal` beside it): read through the WAL, and neither
    /// the journal nor its WAL is touched.
    @Test func aLiveJournalIsReadWithoutWriting() throws {
        let dir = try T.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("live.sqlite").path
        let j = try Journal(path: path)
        try j.record(.desiredReplaced([DesiredEntry(T.key(1), T.entry(1))]), now: 1)
        try j.record(.batchWritten(Batch(id: 1, changes: [.set(T.key(1), T.entry(1))])), now: 1)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        var before = try Self.fingerprint(dir)
        before["live.sqlite-shm"] = nil  // the WAL index: readers take their place in it
        let r = try Self.run(["reconcile", "--journal", path, "--format", "redis"])
        var after = try Self.fingerprint(dir)
        after["live.sqlite-shm"] = nil
        #expect(after == before)
        // Batch 1 is in flight, not acknowledged: the store may still lack key 1.
        #expect(r.status == 1 && r.stdout.contains(T.key(1).description), "exit \(r.status): \(r.stdout) \(r.stderr)")
        withExtendedLifetime(j) {}
    }

    /// A 0444 journal in a 0555 folder, read by a user who may write neither.
    @Test func aReadOnlyJournalInAReadOnlyFolderIsReadable() throws {
        try #require(geteuid() == 0, "switching to the nobody user needs root")
        let dir = try T.tempDir()
        defer {
            chmod(dir.path, 0o755)
            try? FileManager.default.removeItem(at: dir)
        }
        let path = dir.appendingPathComponent("j.sqlite").path
        try Self.writeJournal(path)
        chmod(path, 0o444)
        chmod(dir.path, 0o555)
        let before = try Self.fingerprint(dir)
        let r = try Self.run(["reconcile", "--journal", path], as: 65534)
        #expect(r.status == 0, "exit \(r.status): \(r.stderr)")
        let s = try Self.run(["status", "--journal", path], as: 65534)
        #expect(s.status == 0 && s.stdout.contains("last batch 1"), "\(s.stdout) \(s.stderr)")
        #expect(try Self.fingerprint(dir) == before)
    }

    /// A journal with a -wal and no -shm, in a folder the reader may not write: SQLite cannot read
    /// the WAL, and the reader says why and what to do (exit 2), creating nothing.
    @Test func aWALWithoutItsIndexInAReadOnlyFolderIsExplained() throws {
        try #require(geteuid() == 0, "switching to the nobody user needs root")
        let dir = try T.tempDir()
        defer {
            chmod(dir.path, 0o755)
            try? FileManager.default.removeItem(at: dir)
        }
        let live = dir.appendingPathComponent("live.sqlite").path
        let copy = dir.appendingPathComponent("copy.sqlite").path
        do {  // the writer is closed at the end of this block, before the folder is fingerprinted
            let j = try Journal(path: live)
            try j.record(.desiredReplaced([DesiredEntry(T.key(1), T.entry(1))]), now: 1)
            try FileManager.default.copyItem(atPath: live, toPath: copy)
            try FileManager.default.copyItem(atPath: live + "-wal", toPath: copy + "-wal")
        }
        for p in [copy, copy + "-wal"] { chmod(p, 0o444) }
        chmod(dir.path, 0o555)
        let before = try Self.fingerprint(dir)
        let r = try Self.run(["status", "--journal", copy], as: 65534)
        #expect(r.status == 2 && r.stderr.contains("copy the journal and its -wal to a writable folder"), "\(r.stderr)")
        #expect(try Self.fingerprint(dir) == before)
    }
}
