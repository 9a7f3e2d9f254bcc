import Files
import Foundation
import Glibc
import Testing

/// The safe writes used for the metrics textfile and the folders the daemon makes (issue 11,
/// security findings: a fixed temp name followed a planted symlink; modes followed the umask).
@Suite(.serialized) struct AtomicFileTests {
    /// A fresh folder, removed after `body`, with the umask set to `mask` meanwhile.
    static func inFolder(umask mask: mode_t = 0, _ body: (String) throws -> Void) throws {
        let name = "nsd-atomic-\(getpid())-\(UUID().uuidString.prefix(8))"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let previous = umask(mask)
        defer { umask(previous) }
        try body(dir)
    }

    static func mode(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode : 0
    }

    static func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    @Test func plantedSymlinksAtTemporaryNamesAreNeverFollowed() throws {
        try Self.inFolder { dir in
            let target = dir + "/metrics.prom"
            let victim = dir + "/victim"
            let elsewhere = dir + "/created-elsewhere"
            try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
            let planted = [
                "metrics.prom.tmp", ".metrics.prom.tmp", "metrics.prom.new", "metrics.prom~",
                ".metrics.prom.0.tmp",
            ]
            for (i, name) in planted.enumerated() {
                // Some point at a file that exists, some at one that does not (it would be created).
                #expect(symlink(i % 2 == 0 ? victim : elsewhere, dir + "/" + name) == 0)
            }
            try AtomicFile.write(Array("new\n".utf8), to: target)
            try AtomicFile.write(Array("newer\n".utf8), to: target)
            #expect(Self.text(target) == "newer\n")
            #expect(Self.text(victim) == "precious")
            #expect(access(elsewhere, F_OK) != 0)
            #expect(Self.mode(target) & S_IFMT == S_IFREG)
            // Nothing else is left behind: the target, the victim and the planted links.
            let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            #expect(Set(names) == Set(planted + ["metrics.prom", "victim"]))
        }
    }

    @Test func aSymlinkAtTheTargetIsReplacedNotFollowed() throws {
        try Self.inFolder { dir in
            let target = dir + "/metrics.prom"
            let victim = dir + "/victim"
            try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
            #expect(symlink(victim, target) == 0)
            try AtomicFile.write(Array("new\n".utf8), to: target)
            #expect(Self.mode(target) & S_IFMT == S_IFREG)
            #expect(Self.text(target) == "new\n")
            #expect(Self.text(victim) == "precious")
        }
    }

    @Test func modeIsExactWhateverTheUmask() throws {
        for mask: mode_t in [0, 0o022, 0o077] {
            try Self.inFolder(umask: mask) { dir in
                try AtomicFile.write(Array("x".utf8), to: dir + "/public", mode: 0o644)
                try AtomicFile.write(Array("x".utf8), to: dir + "/private", mode: 0o600, sync: true)
                #expect(Self.mode(dir + "/public") & 0o7777 == 0o644, "umask \(String(mask, radix: 8))")
                #expect(Self.mode(dir + "/private") & 0o7777 == 0o600, "umask \(String(mask, radix: 8))")
            }
        }
    }

    @Test func aFolderThatIsMissingIsAnErrorNamingThePath() throws {
        try Self.inFolder { dir in
            #expect {
                try AtomicFile.write(Array("x".utf8), to: dir + "/missing/metrics.prom")
            } throws: { e in
                (e as? FileWriteError)?.errno == ENOENT && "\(e)".contains(dir + "/missing/metrics.prom")
            }
        }
    }

    @Test func foldersMadeAre0700AndExistingOnesAreLeftAlone() throws {
        try Self.inFolder { dir in
            #expect(mkdir(dir + "/existing", 0o755) == 0)
            try PrivateFolder.create(dir + "/existing/a/b")
            try PrivateFolder.create(dir + "/existing/a/b")  // again: nothing to do, no error
            #expect(Self.mode(dir + "/existing") & 0o7777 == 0o755)
            #expect(Self.mode(dir + "/existing/a") & 0o7777 == 0o700)
            #expect(Self.mode(dir + "/existing/a/b") & 0o7777 == 0o700)
            try "x".write(toFile: dir + "/file", atomically: false, encoding: .utf8)
            #expect(throws: FileWriteError.self) { try PrivateFolder.create(dir + "/file/a") }
            // The last part being a file is no folder either: said at once, not by every later write.
            #expect {
                try PrivateFolder.create(dir + "/file")
            } throws: { e in
                (e as? FileWriteError)?.errno == ENOTDIR && "\(e)".contains(dir + "/file")
            }
        }
    }
}
