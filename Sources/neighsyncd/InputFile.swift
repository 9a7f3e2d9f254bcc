import Files
import Foundation
import Glibc
import Model

/// Reads a whole input file (`readToEnd`: a pipe such as `/dev/stdin` or `<(…)` works too), with
/// errors worded for an operator.
enum InputFile {
    /// Why a file could not be read, worded for an operator.
    struct ReadError: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "\(path): \(reason)" }
    }

    /// Far above any neighbor table (a million entries is ~100 MB), so that an endless stream
    /// (`/dev/zero`, a command that never ends) is an error rather than all the memory.
    static let limit = 1 << 30

    static func read(_ path: String, limit: Int = limit) throws(ReadError) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, reason: "cannot open: \(lastError)") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ReadError(path: path, reason: "cannot stat: \(lastError)") }
        if info.st_mode & S_IFMT == S_IFDIR { throw ReadError(path: path, reason: "is a directory, not a file") }
        // A regular file's size is a hint for the first allocation, not a limit on what is read.
        let size = info.st_mode & S_IFMT == S_IFREG ? Int(clamping: info.st_size) : 0
        do {
            return try readToEnd(fd, limit: limit, sizeHint: size)
        } catch {
            switch error {
            case .longerThanLimit: throw ReadError(path: path, reason: "longer than \(limit >> 20) MiB; not read")
            case .read(let e): throw ReadError(path: path, reason: "cannot read: \(String(cString: strerror(e)))")
            }
        }
    }

    private static var lastError: String { String(cString: strerror(errno)) }
}
