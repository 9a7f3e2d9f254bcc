import Foundation
import Restorer
import Testing

/// Restore progress: the textfile `neighsyncd restore --metrics` writes, and `status`'s line from it.
struct RestoreProgressTests {
    static func sample() -> RestoreProgress {
        var p = RestoreProgress()
        p.phase = .timedOut
        (p.total, p.restored, p.refused, p.waiting) = (100_000, 99_000, 3, 997)
        (p.probesSent, p.passes, p.seconds) = (98_500, 23, 110)
        p.flagSet = true
        return p
    }

    @Test func theTextfileReadsBackAsWritten() throws {
        let p = Self.sample()
        let text = p.render()
        #expect(text.contains("neighsyncd_restore_phase{phase=\"timed_out\"} 1\n"))
        #expect(text.contains("neighsyncd_restore_phase{phase=\"restoring\"} 0\n"))
        #expect(text.contains("neighsyncd_restore_waiting 997\n"))
        #expect(text.contains("neighsyncd_restore_flag_set 1\n"))
        #expect(RestoreProgress(parsing: text) == p)
        // Not a restore textfile (the daemon's metrics, an empty file): no progress, not zeros.
        #expect(RestoreProgress(parsing: "neighsyncd_phase{phase=\"steady\"} 1\n") == nil)
        #expect(RestoreProgress(parsing: "") == nil)
    }

    /// `neighsyncd status` (the debug build) prints the `restore:` line from the textfile, and
    /// refuses a file that is not one.
    @Test func statusPrintsTheRestoreLine() throws {
        let neighsyncd = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/neighsyncd").path
        try #require(FileManager.default.isExecutableFile(atPath: neighsyncd), "build first: \(neighsyncd)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-restore-\(getpid()).prom")
        defer { try? FileManager.default.removeItem(at: file) }
        func status() throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: neighsyncd)
            p.arguments = ["status", "--restore-metrics", file.path]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
        try Data(Self.sample().render().utf8).write(to: file)
        let (code, text) = try status()
        #expect(code == 0)
        #expect(
            text.contains(
                "restore:      timed_out, 99000 of 100000 restored, 3 refused, 997 waiting; "
                    + "98500 probes, 23 passes, 110 s"
            )
        )
        try Data("garbage\n".utf8).write(to: file)
        #expect(try status().0 == 2)
    }
}
