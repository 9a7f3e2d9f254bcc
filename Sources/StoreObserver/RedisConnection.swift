import CHiredis
import Glibc

/// A Redis reply, copied out of hiredis.
public enum RedisReply: Hashable, Sendable {
    case string(String)
    /// A bulk string that is not UTF-8 (a key written by something else), kept as its bytes:
    /// decoded lossily it could pass for another key, or name one that does not exist.
    case bytes([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    /// An error reply (`-ERR …`, `-NOSCRIPT …`, `-WRONGTYPE …`): the command failed, the connection did not.
    case error(String)

    public var string: String? {
        switch self {
        case .string(let s), .status(let s): return s
        default: return nil
        }
    }

    public var integer: Int64? { if case .integer(let i) = self { return i } else { return nil } }
    public var array: [RedisReply]? { if case .array(let a) = self { return a } else { return nil } }
}

/// Why talking to Redis failed. After `.io` or `.connect` the connection is unusable; after
/// `.refused` (the server answered a write with an error reply: OOM, WRONGTYPE) it is fine.
public struct RedisError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable { case connect, io, reply, refused, configuration }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "redis \(kind.rawValue): \(message)" }
}

/// Where a Redis instance listens.
public enum RedisEndpoint: Hashable, Sendable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    public var description: String {
        switch self {
        case .unix(let p): "unix:\(p)"
        case .tcp(let h, let p): "\(h):\(p)"
        }
    }
}

/// One hiredis connection, selected to one database. Blocking with a timeout; pipelining by
/// `append` then `reply`. Closed in `deinit`.
public final class RedisConnection {
    public let endpoint: RedisEndpoint
    public let database: Int
    private let context: UnsafeMutablePointer<redisContext>
    /// Set once an I/O error made the hiredis context unusable: its owner replaces the connection.
    public private(set) var broken = false
    /// Commands sent whose replies have not been read (pipelining). A synchronous `command`
    /// needs none: it would read one of theirs as its own. A broken connection awaits none: its
    /// replies will never come.
    public private(set) var repliesAwaited = 0

    public init(
        endpoint: RedisEndpoint,
        database: Int,
        password: String? = nil,
        timeoutMilliseconds: Int = 5000
    ) throws(RedisError) {
        self.endpoint = endpoint
        self.database = database
        // hiredis writes with write(2): a server that died must give an error, not a SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let tv = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        let c: UnsafeMutablePointer<redisContext>? =
            switch endpoint {
            case .unix(let path): redisConnectUnixWithTimeout(path, tv)
            case .tcp(let host, let port): redisConnectWithTimeout(host, Int32(port), tv)
            }
        guard let c else { throw RedisError(.connect, "\(endpoint): cannot allocate a context") }
        guard c.pointee.err == 0 else {
            let message = Self.errorString(c)
            redisFree(c)
            throw RedisError(.connect, "\(endpoint): \(message)")
        }
        context = c
        _ = redisSetTimeout(c, tv)
        if let password {
            let r = try command(["AUTH", password])
            if case .error(let e) = r { throw RedisError(.connect, "\(endpoint): AUTH refused: \(e)") }
        }
        if database != 0 {
            let r = try command(["SELECT", String(database)])
            if case .error(let e) = r { throw RedisError(.connect, "\(endpoint): SELECT \(database): \(e)") }
        }
    }

    deinit { redisFree(context) }

    /// The socket, for an event loop to poll (subscriber connections).
    public var fileDescriptor: Int32 { context.pointee.fd }

    /// Sends one command and reads its reply.
    public func command(_ args: [String]) throws(RedisError) -> RedisReply {
        guard !broken else { throw RedisError(.io, "\(endpoint): connection is broken") }
        guard repliesAwaited == 0 else {
            throw RedisError(
                .reply,
                "\(endpoint): \(args.first ?? "command") while \(repliesAwaited) replies are still awaited"
            )
        }
        try append(args)
        return try reply()
    }

    /// Queues a command in the output buffer; `reply()` sends everything queued and reads one reply.
    public func append(_ args: [String]) throws(RedisError) {
        guard !broken else { throw RedisError(.io, "\(endpoint): connection is broken") }
        let rc = Self.withArgv(args) { argc, argv, lens in redisAppendCommandArgv(context, argc, argv, lens) }
        guard rc == REDIS_OK else { throw fail() }
        repliesAwaited += 1
    }

    /// Sends everything queued without reading any reply (pipelining across event-loop turns).
    public func flush() throws(RedisError) {
        guard !broken else { throw RedisError(.io, "\(endpoint): connection is broken") }
        var done: Int32 = 0
        repeat {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw fail() }
        } while done == 0
    }

    public func reply() throws(RedisError) -> RedisReply {
        try withReply { Self.convert($0) }
    }

    /// Queues `commands` commands already in the Redis protocol (RESP); each gives one reply. For
    /// bulk reads and batch writes that would otherwise build an argument array per command.
    public func appendProtocol(_ bytes: [UInt8], commands: Int) throws(RedisError) {
        guard !broken else { throw RedisError(.io, "\(endpoint): connection is broken") }
        let rc = bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
        guard rc == REDIS_OK else { throw fail() }
        repliesAwaited += commands
    }

    /// Reads one reply and hands hiredis's own object to `body`, copying nothing; the object is
    /// freed when `body` returns.
    func withReply<R>(_ body: (redisReply) throws(RedisError) -> R) throws(RedisError) -> R {
        guard !broken else { throw RedisError(.io, "\(endpoint): connection is broken") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw fail() }
        defer { freeReplyObject(raw) }
        repliesAwaited = max(0, repliesAwaited - 1)  // a subscription's extra replies were not asked for one by one
        return try body(raw.assumingMemoryBound(to: redisReply.self).pointee)
    }

    /// Reads one reply that is a flat array of field/value strings (HGETALL) straight into a
    /// dictionary; nil when the reply is anything else (an error such as WRONGTYPE).
    public func replyFields() throws(RedisError) -> [String: String]? {
        try withReply { r in
            guard r.type == REDIS_REPLY_ARRAY else { return nil }
            var out: [String: String] = [:]
            out.reserveCapacity(Int(r.elements) / 2)
            var i = 0
            while i + 1 < Int(r.elements) {
                if let f = r.element[i]?.pointee, let v = r.element[i + 1]?.pointee {
                    out[Self.text(f)] = Self.text(v)
                }
                i += 2
            }
            return out
        }
    }

    /// Reads what the socket has and returns a complete reply if one is buffered, without blocking
    /// when called after poll() said the socket is readable (subscriber connections).
    public func readAvailable() throws(RedisError) -> [RedisReply] {
        guard redisBufferRead(context) == REDIS_OK else { throw fail() }
        var out: [RedisReply] = []
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw fail() }
            guard let raw else { return out }
            out.append(Self.convert(raw.assumingMemoryBound(to: redisReply.self).pointee))
            freeReplyObject(raw)
        }
    }

    private func fail() -> RedisError {
        broken = true
        repliesAwaited = 0
        return RedisError(.io, "\(endpoint): \(Self.errorString(context))")
    }

    private static func errorString(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private static func text(_ r: redisReply) -> String {
        guard let s = r.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: s, count: Int(r.len)), as: UTF8.self)
    }

    private static func convert(_ r: redisReply) -> RedisReply {
        switch r.type {
        case REDIS_REPLY_STRING:
            let bytes = UnsafeRawBufferPointer(start: r.str, count: r.str == nil ? 0 : Int(r.len))
            return String(validating: bytes, as: UTF8.self).map(RedisReply.string) ?? .bytes(Array(bytes))
        case REDIS_REPLY_STATUS: return .status(text(r))
        case REDIS_REPLY_ERROR: return .error(text(r))
        case REDIS_REPLY_INTEGER: return .integer(r.integer)
        case REDIS_REPLY_ARRAY:
            return .array((0..<Int(r.elements)).compactMap { i in r.element[i].map { convert($0.pointee) } })
        default: return .null
        }
    }

    /// Lays the arguments out once, contiguously, for hiredis's argv interface.
    private static func withArgv<R>(
        _ args: [String],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(args.reduce(0) { $0 + $1.utf8.count })
        var lens: [Int] = []
        lens.reserveCapacity(args.count)
        for a in args {
            bytes.append(contentsOf: a.utf8)
            lens.append(a.utf8.count)
        }
        bytes.append(0)  // never empty, so the buffer always has an address
        return bytes.withUnsafeBufferPointer { buf in
            let base = UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
            var ptrs: [UnsafePointer<CChar>?] = []
            ptrs.reserveCapacity(args.count)
            var o = 0
            for l in lens {
                ptrs.append(base + o)
                o += l
            }
            return ptrs.withUnsafeMutableBufferPointer { p in
                lens.withUnsafeBufferPointer { body(Int32(args.count), p.baseAddress!, $0.baseAddress!) }
            }
        }
    }
}
