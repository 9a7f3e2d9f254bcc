import CSQLite
import Foundation
import Glibc
import Journal
import JournalExercise
import Model
import Testing

/// The journal writer killed with SIGKILL at random points: each reopened journal opens, passes
/// `PRAGMA integrity_check`, and replays to the state of the last committed batch. The writer is
/// `neighsyncd-crash-tester journal-exercise`, a program of its own, not the shipped daemon.
@Suite struct CrashTests {
    @Test func sigkillAtFiftyRandomPoints() throws {
        let tester = BuiltPrograms.crashTester
        try #require(
            FileManager.default.isExecutableFile(atPath: tester),
            "\(tester) is missing: build it first (`swift build`; scripts/test does)"
        )
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-crash-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SystemRandomNumberGenerator()
        var killedAfter: [Int] = []
        for round in 0..<50 {
            let path = dir.appendingPathComponent("j\(round).sqlite").path
            let out = dir.appendingPathComponent("out\(round)").path
            let pid = try Self.spawn([tester, "journal-exercise", "--journal", path], stdout: out)
            // Start the clock at its first committed batch, not at spawn: on a loaded machine the
            // start-up (process, migrations) alone can outlast a fixed delay.
            while (try? Data(contentsOf: URL(fileURLWithPath: out)))?.isEmpty ?? true, waitpid(pid, nil, WNOHANG) == 0 {
                usleep(1000)
            }
            usleep(UInt32.random(in: 0...230_000, using: &rng))
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            let printed =
                (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").compactMap { Int($0) }.last
                ?? 0
            killedAfter.append(printed)
            guard FileManager.default.fileExists(atPath: path) else { continue }  // killed before creating it
            #expect(Self.integrityCheck(path) == "ok", "round \(round)")
            let image = try Journal(path: path).load()
            // Committed: every printed batch, maybe the next one, maybe the one after that written but not applied.
            var variants: [JournalImage] = []
            for k in [printed, printed + 1] {
                var i = JournalImage.empty
                for r in JournalExercise.records(batches: k) { i.apply(r) }
                variants.append(i)
                i.apply(.batchWritten(JournalExercise.batch(k + 1)))
                variants.append(i)
            }
            #expect(
                variants.contains(image),
                "round \(round): journal does not replay to batch \(printed) or \(printed + 1)"
            )
        }
        #expect(killedAfter.filter { $0 > 0 }.count >= 40, "most kills should land mid-stream: \(killedAfter)")
    }

    static func integrityCheck(_ path: String) -> String {
        var db: OpaquePointer?
        // Read-write: a WAL left by the killed writer is recovered first, as the daemon would.
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else { return "cannot open" }
        defer { sqlite3_close(db) }
        var s: OpaquePointer?
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nil)
        defer { sqlite3_finalize(s) }
        guard sqlite3_step(s) == SQLITE_ROW, let t = sqlite3_column_text(s, 0) else {
            return "no result: " + String(cString: sqlite3_errmsg(db))
        }
        return String(cString: t)
    }

    static func spawn(_ argv: [String], stdout path: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var pid: pid_t = 0
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        return pid
    }
}
