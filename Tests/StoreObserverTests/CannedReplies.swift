import Foundation
import Glibc
import StoreObserver

/// A fake Redis that answers whatever is asked with replies given up front, then closes: for
/// replies a real server would never send. A unix socket's connect completes in the backlog,
/// so one thread plays both ends.
final class CannedReplies {
    let dir: String
    let listener: Int32
    private var peers: [Int32] = []

    init() throws {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-canned-XXXXXX").path
        var pattern = Array(template.utf8CString)
        guard let d = mkdtemp(&pattern) else {
            throw RedisError(.connect, "mkdtemp: \(String(cString: strerror(errno)))")
        }
        dir = String(cString: d)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = dir + "/redis.sock"
        withUnsafeMutableBytes(of: &address.sun_path) { p in
            for (i, b) in path.utf8.prefix(p.count - 1).enumerated() { p[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard listener >= 0, bound == 0, listen(listener, 4) == 0 else {
            throw RedisError(.connect, "listening on \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        for p in peers { close(p) }
        close(listener)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A connection whose every reply comes from `replies` (raw RESP); after them, end of file.
    func connect(replying replies: String) throws -> RedisConnection {
        let c = try RedisConnection(endpoint: .unix(path: dir + "/redis.sock"), database: 0, timeoutMilliseconds: 2000)
        let peer = accept(listener, nil, nil)
        guard peer >= 0 else { throw RedisError(.connect, "accept: \(String(cString: strerror(errno)))") }
        peers.append(peer)   // kept open: the client's commands must not meet a closed socket
        let bytes = Array(replies.utf8)
        guard write(peer, bytes, bytes.count) == bytes.count else {
            throw RedisError(.io, "short write to the fake client")
        }
        shutdown(peer, Int32(SHUT_WR))
        return c
    }
}
