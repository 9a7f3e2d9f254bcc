import Foundation
import Glibc

/// Reads a whole input file with read(2) until end of file, so a pipe (`/dev/stdin`, `<(…)`), a
/// character device or a file whose size changes reads like any file: a mapped or stat-sized read
/// sees a size of 0 in those and fails with a misleading error.
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
        var data = Data(capacity: min(size, limit) + (1 << 16))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return data }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, reason: "cannot read: \(lastError)")
            }
            guard data.count + n <= limit else {
                throw ReadError(path: path, reason: "longer than \(limit >> 20) MiB; not read")
            }
            chunk.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(rebasing: $0[..<n])) }
        }
    }

    private static var lastError: String { String(cString: strerror(errno)) }
}
