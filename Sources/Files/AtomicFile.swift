import Glibc

/// Why a file could not be written or a folder made: the operation, the path and errno.
public struct FileWriteError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32

    public var description: String { "\(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Replaces a file's whole content at once, without trusting its folder: the content goes to a
/// temp file created exclusively (O_EXCL | O_NOFOLLOW: a name someone placed there, symlink or
/// not, is never opened) under an unpredictable name beside the target, gets its mode set
/// explicitly (the umask plays no part), then is renamed over the target. A reader sees the old
/// content or the new, never a mix; a symlink at the target is replaced, not followed.
public enum AtomicFile {
    public static func write(
        _ bytes: [UInt8],
        to path: String,
        mode: mode_t = 0o644,
        sync: Bool = false
    )
        throws(FileWriteError)
    {
        let (fd, temp) = try createTemp(beside: path)
        do throws(FileWriteError) {
            defer { close(fd) }
            try writeAll(bytes, fd, temp)
            guard fchmod(fd, mode) == 0 else { throw FileWriteError(operation: "fchmod", path: temp, errno: errno) }
            if sync, fsync(fd) != 0 { throw FileWriteError(operation: "fsync", path: temp, errno: errno) }
        } catch {
            unlink(temp)
            throw error
        }
        guard rename(temp, path) == 0 else {
            let e = errno
            unlink(temp)
            throw FileWriteError(operation: "rename \(temp) to", path: path, errno: e)
        }
    }

    /// `<folder>/.<name>.<16 random hex digits>.tmp`, opened O_EXCL; another name on EEXIST.
    static func createTemp(beside path: String) throws(FileWriteError) -> (Int32, String) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var generator = SystemRandomNumberGenerator()
        var lastError: Int32 = EEXIST
        for _ in 0..<100 {
            let suffix = String(generator.next() as UInt64, radix: 16)
            let temp = "\(folder).\(name).\(suffix).tmp"
            let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 { return (fd, temp) }
            lastError = errno
            guard lastError == EEXIST || lastError == EINTR else { break }
        }
        throw FileWriteError(operation: "create a temp file for", path: path, errno: lastError)
    }

    static func writeAll(_ bytes: [UInt8], _ fd: Int32, _ path: String) throws(FileWriteError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { b in b.baseAddress.map { Glibc.write(fd, $0 + done, b.count - done) } ?? 0 }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileWriteError(operation: "write", path: path, errno: errno)
            }
            done += n
        }
    }
}
