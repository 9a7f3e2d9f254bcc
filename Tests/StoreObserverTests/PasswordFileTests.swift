import Foundation
import Glibc
import StoreObserver
import Testing

/// `--redis-password-file` (issue 11, security finding: a world-readable file was accepted silently).
@Suite struct PasswordFileTests {
    static func withFile(_ content: String, mode: mode_t, _ body: (String) throws -> Void) throws {
        let name = "nsd-pw-\(getpid())-\(UUID().uuidString.prefix(8))"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        defer { unlink(path) }
        #expect(chmod(path, mode) == 0)
        try body(path)
    }

    @Test func aPrivateFileIsReadTrimmedWithoutAWord() throws {
        try Self.withFile("  s3cret\n", mode: 0o600) { path in
            let f = try PasswordFile.read(path)
            #expect(f.password == "s3cret")
            #expect(f.warnings.isEmpty)
        }
    }

    @Test func aWorldReadableFileIsAcceptedWithAWarningNamingItAndItsMode() throws {
        try Self.withFile("s3cret\n", mode: 0o644) { path in
            let f = try PasswordFile.read(path)
            #expect(f.password == "s3cret")
            #expect(f.warnings.count == 1)
            #expect(f.warnings.first?.contains(path) == true)
            #expect(f.warnings.first?.contains("0644") == true)
        }
        try Self.withFile("s3cret", mode: 0o666) { path in
            let warning = try PasswordFile.read(path).warnings.first
            #expect(warning?.contains("writable by every user") == true)
        }
        try Self.withFile("s3cret", mode: 0o640) { path in
            let warnings = try PasswordFile.read(path).warnings
            #expect(warnings.isEmpty)  // a group, as SONiC sets it up
        }
    }

    @Test func aSymlinkToSomethingOddIsRefused() throws {
        let link = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-pw-link-\(getpid())").path
        for odd in ["/tmp", "/dev/zero"] {
            unlink(link)
            #expect(symlink(odd, link) == 0)
            #expect(throws: RedisError.self) { try PasswordFile.read(link) }
        }
        unlink(link)
        #expect(throws: RedisError.self) { try PasswordFile.read(link) }  // missing
    }

    @Test func aPipeWorksAndAHugeFileIsRefused() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        _ = "from a pipe\n".withCString { write(fds[1], $0, strlen($0)) }
        close(fds[1])
        defer { close(fds[0]) }
        let fromPipe = try PasswordFile.read("/proc/self/fd/\(fds[0])")
        #expect(fromPipe.password == "from a pipe")
        try Self.withFile(String(repeating: "x", count: 5000), mode: 0o600) { path in
            #expect(throws: RedisError.self) { try PasswordFile.read(path) }
        }
    }
}
