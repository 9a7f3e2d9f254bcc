import Glibc

/// The rules for the files a journal is made of (`J`, `J-wal`, `J-shm`, `J.lock`): never a
/// symbolic link (a planted link would make the daemon, running as root, create or write a file
/// elsewhere), only regular files, mode 0600 whatever the umask.
enum JournalPath {
    static let sideFiles = ["-wal", "-shm"]

    /// What is at `path` without following a link: nil when nothing is.
    static func status(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    static func exists(_ path: String) -> Bool { status(path) != nil }

    /// Refuses a symbolic link or a non-regular file at the journal's path or its side files.
    static func check(_ path: String) throws(JournalError) {
        for p in [path] + sideFiles.map({ path + $0 }) {
            guard let st = status(p) else { continue }
            if st.st_mode & S_IFMT == S_IFLNK { throw linkRefused(p) }
            guard st.st_mode & S_IFMT == S_IFREG else {
                throw JournalError(kind: .unsafePath, message: "\(p) is not a regular file")
            }
        }
    }

    static func linkRefused(_ p: String) -> JournalError {
        JournalError(kind: .unsafePath, message: "\(p) is a symbolic link; refusing to follow it (give the real path)")
    }

    /// Creates an empty journal file with mode 0600; fails if anything (a dangling link too) is there.
    static func create(_ path: String) throws(JournalError) {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let e = errno
            if e == EEXIST, let st = status(path), st.st_mode & S_IFMT == S_IFLNK { throw linkRefused(path) }
            throw JournalError(kind: .io, message: "\(path): cannot create: \(String(cString: strerror(e)))")
        }
        fchmod(fd, 0o600)
        close(fd)
    }

    /// Mode 0600 on the journal and the side files that exist: SQLite gives the side files the
    /// journal's mode, so a journal once created 0644 would otherwise leave its WAL readable by all.
    static func makePrivate(_ path: String) {
        for p in [path] + sideFiles.map({ path + $0 }) {
            guard let st = status(p), st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o077 != 0 else { continue }
            chmod(p, 0o600)
        }
    }
}
