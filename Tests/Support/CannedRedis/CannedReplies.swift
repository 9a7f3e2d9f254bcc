import Foundation
import Glibc
import StoreObserver

/// A fake Redis that answers whatever is asked with replies given up front, then end of file: for
/// replies a real server would never send (the StoreObserver tests, the FuzzRedisReplies target).
/// A unix socket's connect completes in the backlog, so one thread plays both ends.
public final class CannedReplies {
    /// The private folder holding the socket, removed on deinit.
    public let folder: String
    public var socketPath: String { folder + "/redis.sock" }
    private let listener: Int32
    private var peers: [Int32] = []

    public init() throws(RedisError) {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-canned-XXXXXX").path
        var pattern = Array(template.utf8CString)
        guard let d = mkdtemp(&pattern) else {
            throw RedisError(.connect, "mkdtemp: \(String(cString: strerror(errno)))")
        }
        folder = String(cString: d)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = folder + "/redis.sock"
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
        closeConnections()
        close(listener)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A connection whose every reply comes from `replies` (raw RESP); after them, end of file.
    /// The server's end stays open until `closeConnections`: the client's commands must not meet
    /// a closed socket.
    public func connect(
        replying replies: [UInt8],
        timeoutMilliseconds: Int = 2000
    ) throws(RedisError)
        -> RedisConnection
    {
        let (c, peer) = try connectAndAccept(timeoutMilliseconds: timeoutMilliseconds)
        // Nothing reads the other end until this returns: replies beyond the socket's buffer are
        // an error here rather than a write that blocks forever.
        _ = fcntl(peer, F_SETFL, fcntl(peer, F_GETFL) | O_NONBLOCK)
        let failure = replies.withUnsafeBytes { bytes -> String? in
            var sent = 0
            while let base = bytes.baseAddress, sent < bytes.count {
                let n = write(peer, base + sent, bytes.count - sent)
                guard n > 0 else { return String(cString: strerror(errno)) }
                sent += n
            }
            return nil
        }
        if let failure { throw RedisError(.io, "write to the fake client: \(failure)") }
        shutdown(peer, Int32(SHUT_WR))  // the replies end here: a reader waiting for more sees EOF
        return c
    }

    public func connect(
        replying replies: String,
        timeoutMilliseconds: Int = 2000
    ) throws(RedisError)
        -> RedisConnection
    {
        try connect(replying: Array(replies.utf8), timeoutMilliseconds: timeoutMilliseconds)
    }

    /// A connection whose replies arrive `chunk` bytes at a time with a pause between pieces, so
    /// that a reply is split across the client's reads; then end of file.
    public func connect(
        trickling replies: [UInt8],
        chunk: Int = 1,
        timeoutMilliseconds: Int = 5000
    )
        throws(RedisError) -> RedisConnection
    {
        let (c, peer) = try connectAndAccept(timeoutMilliseconds: timeoutMilliseconds)
        let t = Thread {
            var sent = 0
            while sent < replies.count {
                let end = min(sent + max(1, chunk), replies.count)
                let n = replies[sent..<end].withUnsafeBytes { write(peer, $0.baseAddress, $0.count) }
                guard n > 0 else { return }
                sent += n
                usleep(300)
            }
            shutdown(peer, Int32(SHUT_WR))
        }
        t.start()
        return c
    }

    /// A client connection and the server's end of it (kept, closed by `closeConnections`).
    private func connectAndAccept(timeoutMilliseconds: Int) throws(RedisError) -> (RedisConnection, Int32) {
        let c = try RedisConnection(
            endpoint: .unix(path: socketPath),
            database: 0,
            timeoutMilliseconds: timeoutMilliseconds
        )
        let peer = accept(listener, nil, nil)
        guard peer >= 0 else { throw RedisError(.connect, "accept: \(String(cString: strerror(errno)))") }
        peers.append(peer)
        return (c, peer)
    }

    /// Closes the server's end of every connection made so far.
    public func closeConnections() {
        for p in peers { close(p) }
        peers = []
    }
}
