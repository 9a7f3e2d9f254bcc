import Glibc

/// One daemon per journal: an exclusive `flock` on `<journal>.lock`, held for as long as this
/// object lives (the daemon's life). A separate file because the journal itself is renamed when
/// it is set aside, and SQLite's own POSIX locks on it are per process and released by any close.
/// The lock file holds the owner's pid, for the message; it is never deleted (unlinking a lock
/// file races with the next locker). Readers take no lock.
public final class JournalLock {
    let fd: Int32
    public let path: String

    public init(journalPath: String) throws(JournalError) {
        path = journalPath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let e = errno
            if e == ELOOP { throw JournalPath.linkRefused(path) }
            let why = String(cString: strerror(e))
            throw JournalError(kind: .io, message: "\(path): cannot create the lock file: \(why)")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let e = errno
            let owner = Self.pid(in: fd)
            close(fd)
            if e == EWOULDBLOCK {
                let pid = owner.map { " (pid \($0))" } ?? ""
                throw JournalError(
                    kind: .inUse,
                    message: "journal \(journalPath) is in use by another neighsyncd\(pid)"
                )
            }
            throw JournalError(kind: .io, message: "\(path): cannot lock: \(String(cString: strerror(e)))")
        }
        fchmod(fd, 0o600)
        let line = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// The pid the holder wrote, if it is one.
    private static func pid(in fd: Int32) -> Int32? {
        var buf = [UInt8](repeating: 0, count: 16)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let digits = buf.prefix(n).prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int32(String(decoding: digits, as: UTF8.self))
    }
}
