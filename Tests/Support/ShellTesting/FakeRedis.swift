import Model
import StoreObserver

/// An in-memory Redis for the embedded runtime, at the level of commands and replies: APPL_DB's
/// NEIGH_TABLE as orchagent would end up with it (each script call applied whole, as Redis runs a
/// script), the script cache, and the faults: error replies (OOM), NOSCRIPT after a script flush,
/// a connection reset after some replies of a pipeline, a restart, a server that is down.
public final class FakeRedisServer {
    /// NEIGH_TABLE by key text: each key's `neigh` and `family`.
    public private(set) var table: [String: NeighborEntry] = [:]
    /// NEIGH_FAILED_TABLE's rows by key text (dual-ToR).
    public private(set) var failedRows: Set<String> = []
    /// Every operation of both tables in the order Redis ran them: `TABLE S key` or `TABLE D key`.
    public private(set) var operations: [String] = []
    public private(set) var up = true
    private var scriptLoaded = false
    /// Bumped by a restart: connections made before it are reset (and see their socket close).
    public private(set) var generation = 0
    /// The next script calls answer this error and change nothing.
    public var refuseNextCalls = 0
    public var refusal = "OOM command not allowed when used memory > 'maxmemory'."
    /// After this many more commands are run, the connection running them is reset.
    public var resetAfterCommands: Int?
    /// Script calls run, and connections made.
    public private(set) var callsRun = 0
    public private(set) var connections = 0
    public private(set) var connectAttempts = 0

    public init() {}

    public func connect() throws(RedisError) -> any RedisTransport {
        connectAttempts += 1
        guard up else { throw RedisError(.connect, "fake redis: connection refused") }
        connections += 1
        return FakeRedisConnection(server: self)
    }

    /// The server goes down: every connection is reset; with `losingData`, NEIGH_TABLE is empty
    /// when it comes back (APPL_DB is not persisted).
    public func stop(losingData: Bool) {
        up = false
        generation += 1
        scriptLoaded = false
        if losingData {
            table = [:]
            failedRows = []
        }
    }

    public func start() { up = true }

    public func flushScripts() { scriptLoaded = false }

    /// NEIGH_FAILED_TABLE's rows as the daemon reads them back.
    public var failedNeighbors: Set<NeighborKey> { Set(failedRows.compactMap { NeighborKey($0) }) }

    /// NEIGH_TABLE as the daemon reads it back.
    public var snapshot: StoreSnapshot {
        var valid: [NeighborKey: NeighborEntry] = [:]
        for (k, e) in table { if let key = NeighborKey(k) { valid[key] = e } }
        return StoreSnapshot(valid: valid)
    }

    /// Runs one command; nil when the connection is reset before it runs.
    func run(_ args: [String]) -> RedisReply? {
        if let n = resetAfterCommands {
            guard n > 0 else {
                resetAfterCommands = nil
                return nil
            }
            resetAfterCommands = n - 1
        }
        switch args.first {
        case "SCRIPT":
            scriptLoaded = true
            return .string("fake-sha")
        case "EVALSHA":
            guard scriptLoaded else { return .error("NOSCRIPT No matching script. Please use EVAL.") }
            if refuseNextCalls > 0 {
                refuseNextCalls -= 1
                return .error(refusal)
            }
            return apply(args)
        default:
            return .error("ERR fake redis: unknown command '\(args.first ?? "")'")
        }
    }

    /// The batch script's ARGV after `EVALSHA sha 0`: channel, key set, delete set, staging
    /// prefix, payload, the field count and names, then `S key mac family` or `D key` per change
    /// (NEIGH_TABLE), or `S key NULL` or `D key` (NEIGH_FAILED_TABLE).
    private func apply(_ args: [String]) -> RedisReply {
        callsRun += 1
        let fields = args.count > 8 ? Int(args[8]) ?? 0 : 0
        if args.count > 3, args[3] == ProducerStateTableNames.neighFailedTable.channel {
            return applyFailed(args, from: 9 + fields, fields: fields)
        }
        var i = 9 + fields
        var added = 0
        while i < args.count {
            let key = args[i + 1]
            operations.append("NEIGH_TABLE \(args[i]) \(key)")
            if args[i] == "S", i + 3 < args.count,
                let mac = MACAddress(args[i + 2]), let family = AddressFamily(fieldValue: args[i + 3])
            {
                if table.updateValue(NeighborEntry(mac: mac, family: family), forKey: key) == nil { added += 1 }
                i += 4
            } else {
                table.removeValue(forKey: key)
                i += 2
            }
        }
        return .integer(Int64(added))
    }

    private func applyFailed(_ args: [String], from start: Int, fields: Int) -> RedisReply {
        var i = start
        var added = 0
        while i + 1 < args.count {
            let key = args[i + 1]
            operations.append("NEIGH_FAILED_TABLE \(args[i]) \(key)")
            if args[i] == "S" {
                if failedRows.insert(key).inserted { added += 1 }
                i += 2 + fields
            } else {
                failedRows.remove(key)
                i += 2
            }
        }
        return .integer(Int64(added))
    }
}

/// One connection to the fake server, pipelined like hiredis: `append` queues, `flush` sends (the
/// server runs the commands in order), `reply` reads the oldest reply.
final class FakeRedisConnection: RedisTransport {
    private unowned let server: FakeRedisServer
    private let generation: Int
    let database = 0
    let fileDescriptor: Int32 = -1
    private(set) var broken = false
    private(set) var repliesAwaited = 0
    private var unsent: [[String]] = []
    private var replies: [RedisReply] = []
    private var replyHead = 0
    /// The server reset the connection while running its pipeline.
    private var reset = false

    init(server: FakeRedisServer) {
        self.server = server
        generation = server.generation
    }

    func command(_ args: [String]) throws(RedisError) -> RedisReply {
        guard repliesAwaited == 0 else { throw RedisError(.reply, "fake redis: command while replies are awaited") }
        try append(args)
        return try reply()
    }

    func append(_ args: [String]) throws(RedisError) {
        try usable()
        unsent.append(args)
        repliesAwaited += 1
    }

    func flush() throws(RedisError) {
        try usable()
        for args in unsent {
            guard !reset, let r = server.run(args) else {
                reset = true
                break
            }
            replies.append(r)
        }
        unsent.removeAll()
    }

    func reply() throws(RedisError) -> RedisReply {
        try flush()
        guard replyHead < replies.count, !reset else { throw fail("connection reset by peer") }
        let r = replies[replyHead]
        replyHead += 1
        repliesAwaited -= 1
        if replyHead == replies.count {
            replies.removeAll()
            replyHead = 0
        }
        return r
    }

    func readAvailable() throws(RedisError) -> [RedisReply] {
        try usable()
        return []
    }

    private func usable() throws(RedisError) {
        if broken { throw RedisError(.io, "fake redis: connection is broken") }
        if reset || generation != server.generation || !server.up { throw fail("connection reset by peer") }
    }

    private func fail(_ message: String) -> RedisError {
        broken = true
        repliesAwaited = 0
        return RedisError(.io, "fake redis: \(message)")
    }
}
