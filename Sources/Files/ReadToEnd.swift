import Foundation
import Glibc

/// Why `readToEnd` stopped short.
public enum ReadToEndError: Error, Hashable, Sendable {
    /// More than the limit is there; nothing is returned.
    case longerThanLimit
    /// read(2) failed with this errno.
    case read(errno: Int32)
}

/// Reads an open file to its end with read(2), so a pipe (`/dev/stdin`, `<(…)`), a character
/// device or a file whose size changes reads like any file (a mapped or stat-sized read sees a
/// size of 0 in those). Bounded: an endless stream (`/dev/zero`) is an error, not all the memory.
/// `sizeHint` (a regular file's size) only sizes the first allocation.
public func readToEnd(_ fd: Int32, limit: Int, sizeHint: Int = 0) throws(ReadToEndError) -> Data {
    var data = Data(capacity: min(max(0, sizeHint), limit) + (1 << 16))
    var chunk = [UInt8](repeating: 0, count: limit < 1 << 20 ? limit + 1 : 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n == 0 { return data }
        if n < 0 {
            if errno == EINTR { continue }
            throw .read(errno: errno)
        }
        guard n <= limit - data.count else { throw .longerThanLimit }
        chunk.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(rebasing: $0[..<n])) }
    }
}
