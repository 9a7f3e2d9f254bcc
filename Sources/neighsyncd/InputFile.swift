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

    static func read(_ path: String) throws(ReadError) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ReadError(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))") }
        if info.st_mode & S_IFMT == S_IFDIR { throw ReadError(path: path, reason: "is a directory, not a file") }
        // A regular file's size is a hint for the first allocation, not a limit on what is read.
        var data = Data(capacity: info.st_mode & S_IFMT == S_IFREG ? Int(clamping: info.st_size) + 1 : 1 << 16)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return data }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, reason: "cannot read: \(String(cString: strerror(errno)))")
            }
            chunk.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(rebasing: $0[..<n])) }
        }
    }
}
