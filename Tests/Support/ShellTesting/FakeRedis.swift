import Model
import StoreObserver

/// An in-memory Redis for the embedded runtime, at the level of commands and replies: APPL_DB's
/// NEIGH_TABLE as orchagent would end up with it (each transaction applied whole at its EXEC, as
/// Redis runs one, and popped by a consumer at once), and the faults: error replies (OOM) that
/// abort a transaction, a connection reset after some commands of a pipeline, a restart, a server
/// that is down.
public final class FakeRedisServer {
    /// NEIGH_TABLE by key text: each key's `neigh` and `family`.
    public private(set) var table: [String: NeighborEntry] = [:]
    /// NEIGH_FAILED_TABLE's rows by key text (dual-ToR).
    public private(set) var failedRows: Set<String> = []
    /// Every operation of both tables in the order a consumer popped them: `TABLE S key` or
    /// `TABLE D key`.
    public private(set) var operations: [String] = []
    public private(set) var up = true
    /// Bumped by a restart: connections made before it are reset (and see their socket close).
    public private(set) var generation = 0
    /// The next transactions have their commands answered with this error, and EXEC aborts them.
    public var refuseNextCalls = 0
    public var refusal = "OOM command not allowed when used memory > 'maxmemory'."
    /// After this many more commands are run, the connection running them is reset.
    public var resetAfterCommands: Int?
    /// Transactions run, and connections made.
    public private(set) var callsRun = 0
    public private(set) var connections = 0
    public private(set) var connectAttempts = 0
    /// Keys a transaction carried while not already pending, and its PUBLISHes, summed: a consumer
    /// popping 128 keys per notification misses none while `published * 128 >= keysAdded` holds
    /// for every transaction (`notificationShortfalls` counts those where it did not).
    public private(set) var keysAdded = 0
    public private(set) var published = 0
    public private(set) var notificationShortfalls = 0

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
        if losingData {
            table = [:]
            failedRows = []
        }
    }

    public func start() { up = true }

    /// NEIGH_FAILED_TABLE's rows as the daemon reads them back.
    public var failedNeighbors: Set<NeighborKey> { Set(failedRows.compactMap { NeighborKey($0) }) }

    /// NEIGH_TABLE as the daemon reads it back.
    public var snapshot: StoreSnapshot {
        var valid: [NeighborKey: NeighborEntry] = [:]
        for (k, e) in table { if let key = NeighborKey(k) { valid[key] = e } }
        return StoreSnapshot(valid: valid)
    }

    /// A connection's transaction: nil outside MULTI; the commands queued, and whether one was
    /// refused (EXEC then aborts).
    struct Transaction {
        var queued: [[String]] = []
        var refused = false
    }

    /// Runs one command of a connection; nil when the connection is reset before it runs.
    func run(_ args: [String], in transaction: inout Transaction?) -> RedisReply? {
        if let n = resetAfterCommands {
            guard n > 0 else {
                resetAfterCommands = nil
                return nil
            }
            resetAfterCommands = n - 1
        }
        switch args.first {
        case "MULTI":
            guard transaction == nil else { return .error("ERR MULTI calls can not be nested") }
            transaction = Transaction(refused: refuseNextCalls > 0)
            refuseNextCalls = max(0, refuseNextCalls - 1)
            return .status("OK")
        case "EXEC":
            guard let t = transaction else { return .error("ERR EXEC without MULTI") }
            transaction = nil
            guard !t.refused else { return .error("EXECABORT Transaction discarded because of previous errors.") }
            return .array(apply(t.queued))
        case "HSET", "SADD", "DEL", "PUBLISH":
            guard transaction != nil else { return .error("ERR fake redis: \(args[0]) outside a transaction") }
            if transaction?.refused == true { return .error(refusal) }
            transaction?.queued.append(args)
            return .status("QUEUED")
        default:
            return .error("ERR fake redis: unknown command '\(args.first ?? "")'")
        }
    }

    /// Runs a transaction's commands, then pops the keys they added as a consumer would (spec §4):
    /// a key in the delete set is deleted, a staging hash's fields replace the row.
    private func apply(_ commands: [[String]]) -> [RedisReply] {
        callsRun += 1
        var staged: [String: [String]] = [:]
        var deleted: Set<String> = []
        var pending: [(table: String, key: String)] = []
        var seen: Set<String> = []
        var notifications = 0
        var results: [RedisReply] = []
        for args in commands {
            switch args[0] {
            case "HSET":
                staged[args[1]] = Array(args.dropFirst(2))
            case "SADD" where args[1].hasSuffix("_KEY_SET"):
                let name = String(args[1].dropLast("_KEY_SET".count))
                for key in args.dropFirst(2) where seen.insert("\(name) \(key)").inserted {
                    pending.append((name, key))
                }
            case "SADD":
                deleted.formUnion(args.dropFirst(2))
            case "DEL":
                for k in args.dropFirst() { staged[k] = nil }
            default:
                notifications += 1
            }
            results.append(.integer(0))
        }
        keysAdded += pending.count
        published += notifications
        if notifications * 128 < pending.count { notificationShortfalls += 1 }
        for (name, key) in pending {
            let fields = staged["_\(name):\(key)"]
            let isSet = fields != nil && !deleted.contains(key)
            operations.append("\(name) \(isSet ? "S" : "D") \(key)")
            switch name {
            case ProducerStateTableNames.neighFailedTable.table:
                if isSet { failedRows.insert(key) } else { failedRows.remove(key) }
            case ProducerStateTableNames.neighTable.table:
                if isSet, let f = fields, f.count == 4, let mac = MACAddress(f[1]),
                    let family = AddressFamily(fieldValue: f[3])
                {
                    table[key] = NeighborEntry(mac: mac, family: family)
                } else {
                    table.removeValue(forKey: key)
                }
            default: break
            }
        }
        return results
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
    private var transaction: FakeRedisServer.Transaction?
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

    func appendProtocol(_ bytes: [UInt8], commands: Int) throws(RedisError) {
        try usable()
        guard let parsed = RESPCommands.parse(bytes), parsed.count == commands else {
            throw RedisError(.reply, "fake redis: the protocol given does not hold \(commands) commands")
        }
        unsent += parsed
        repliesAwaited += commands
    }

    func flush() throws(RedisError) {
        try usable()
        for args in unsent {
            guard !reset, let r = server.run(args, in: &transaction) else {
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
