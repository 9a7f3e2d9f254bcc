import Model

/// Writes batches to `NEIGH_TABLE` with the effects of SONiC's ProducerStateTable (spec §4):
/// per key, SADD to the key set; a SET HSETs `neigh` then `family` into the staging hash; a DEL
/// adds the key to the delete set and removes the staging hash; one PUBLISH per key newly added
/// to the key set. A batch goes out as few EVALSHA calls of many keys each, pipelined; the
/// script and its arguments are `ProducerStateTableScript`.
public final class ProducerStateTable {
    public let connection: any RedisTransport
    public let names: ProducerStateTableNames
    /// Keys carried by one script call.
    public let keysPerCall: Int
    private var sha: String?

    /// A batch sent and not yet answered: what `collect` needs to read its replies (and, after the
    /// script cache was flushed, to send its calls again). The caller keeps them, oldest first.
    public struct SentBatch: Sendable {
        public let id: UInt64
        public let sets: Int
        public let dels: Int
        let what: String
        let calls: [[String]]
    }

    /// What Redis answered to one batch.
    public struct BatchReply: Hashable, Sendable {
        public var id: UInt64
        /// The first error reply (OOM, WRONGTYPE, …): Redis refused the batch, or the part of it
        /// after a script's failing command; the connection is fine. nil: every call ran.
        public var refusal: String?
    }

    /// The replies `collect` read, in the order the batches were sent.
    public struct Collected: Hashable, Sendable {
        public var replies: [BatchReply] = []
        /// Notifications the applied calls published.
        public var published = 0
        /// The batches Redis applied completely.
        public var batches: [UInt64] { replies.filter { $0.refusal == nil }.map(\.id) }
    }

    public init(connection: any RedisTransport, names: ProducerStateTableNames = .neighTable, keysPerCall: Int = 500) {
        self.connection = connection
        self.names = names
        self.keysPerCall = max(1, keysPerCall)
    }

    /// Writes the whole batch and reads back every reply. Returns the number of notifications
    /// published. Throws if any reply is missing (`.io`) or an error (`.refused`): the batch is
    /// then not acknowledged.
    @discardableResult
    public func write(_ batch: Batch) throws(RedisError) -> Int {
        let operations = batch.changes.map(ProducerStateTableScript.operation)
        return try sendAndCollect(operations, id: batch.id, what: "batch \(batch.id)")
    }

    /// Sends a batch's script calls without waiting for their replies, so Redis works on it while
    /// the caller builds the next one. `collect` reads the replies, oldest batch first.
    public func send(_ batch: Batch) throws(RedisError) -> SentBatch {
        let sets = batch.changes.lazy.filter(\.isSet).count
        return try send(
            batch.changes.map(ProducerStateTableScript.operation),
            id: batch.id,
            what: "batch \(batch.id)",
            sets: sets,
            dels: batch.changes.count - sets
        )
    }

    /// Deletes keys given as text, for tables whose keys are not neighbor keys (EVPN: the
    /// `ROUTE_TABLE` host route `<vrf>:<ip>`). Same effects as a DEL in a batch. Nothing else may
    /// be awaiting replies on the connection.
    @discardableResult
    public func delete(keys: [String]) throws(RedisError) -> Int {
        try run(keys.map(ProducerStateTableScript.deletion), what: "delete")
    }

    /// Runs operations given as script ARGV (`ProducerStateTableScript.operation`), in order, and
    /// reads every reply: the writes of a table whose changes are not NEIGH_TABLE batches
    /// (`NEIGH_FAILED_TABLE`). A SET carries one value per field of `names`. Nothing else may be
    /// awaiting replies on the connection. Returns the notifications published.
    @discardableResult
    public func run(_ operations: [[String]], what: String) throws(RedisError) -> Int {
        try sendAndCollect(operations, id: 0, what: what)
    }

    private func sendAndCollect(_ operations: [[String]], id: UInt64, what: String) throws(RedisError) -> Int {
        guard connection.repliesAwaited == 0 else {
            throw RedisError(.reply, "\(what): \(connection.repliesAwaited) replies still awaited on the connection")
        }
        var sent = [try send(operations, id: id, what: what, sets: 0, dels: operations.count)]
        let collected = try collect(&sent)
        if let refusal = collected.replies.lazy.compactMap(\.refusal).first {
            throw RedisError(.refused, "\(what): \(refusal)")
        }
        return collected.published
    }

    /// Sends the operations as pipelined script calls of `keysPerCall` each.
    private func send(
        _ operations: [[String]],
        id: UInt64,
        what: String,
        sets: Int,
        dels: Int
    )
        throws(RedisError) -> SentBatch
    {
        if sha == nil && !operations.isEmpty { try loadScript() }  // a command: refused while replies are awaited
        let header = ProducerStateTableScript.header(names)
        let calls: [[String]] = stride(from: 0, to: operations.count, by: keysPerCall).map { start in
            header + operations[start..<min(start + keysPerCall, operations.count)].joined()
        }
        for args in calls { try connection.append(["EVALSHA", sha ?? "", "0"] + args) }
        try connection.flush()
        return SentBatch(id: id, sets: sets, dels: dels, what: what, calls: calls)
    }

    /// Reads the replies of the oldest batch of `sent` and checks each, removing from `sent` the
    /// batches whose replies were read. Returns what Redis answered:
    /// for that one batch, or, when the script cache was flushed (NOSCRIPT), for every batch sent:
    /// their replies are read, the script is loaded again and the calls that did not run are sent
    /// again. Those then run after calls sent later, which is harmless only because batches in
    /// flight share no key (the core's rule). An error reply (OOM, WRONGTYPE) refuses its batch;
    /// the batch's other replies are still read, so the connection stays in step. Throws if a
    /// reply is missing or of a kind no call gives; nothing sent is then acknowledged, and `sent` is
    /// left as it was (the caller reports every batch in it as lost).
    public func collect(_ sent: inout [SentBatch]) throws(RedisError) -> Collected {
        var out = Collected()
        guard !sent.isEmpty else { return out }
        var retry: [(index: Int, what: String, args: [String])] = []
        func read(_ b: SentBatch) throws(RedisError) {
            var refusal: String?
            for args in b.calls {
                switch try connection.reply() {
                case .integer(let n) where Self.isNotificationCount(n, for: args): out.published += Int(n)
                case .error(let e) where e.hasPrefix("NOSCRIPT"):
                    // The script cache was flushed: this call did not run.
                    retry.append((out.replies.count, b.what, args))
                case .error(let e): refusal = refusal ?? e
                case let other:
                    throw RedisError(.reply, "\(b.what): unexpected reply \(other)")
                }
            }
            out.replies.append(BatchReply(id: b.id, refusal: refusal))
        }
        try read(sent[0])
        if !retry.isEmpty {
            for b in sent.dropFirst() { try read(b) }
            try loadScript()
            for (i, what, args) in retry {
                switch try connection.command(["EVALSHA", sha ?? "", "0"] + args) {
                case .integer(let n) where Self.isNotificationCount(n, for: args): out.published += Int(n)
                case .error(let e): out.replies[i].refusal = out.replies[i].refusal ?? e
                case let other: throw RedisError(.reply, "\(what) after SCRIPT LOAD: \(other)")
                }
            }
        }
        sent.removeFirst(out.replies.count)
        return out
    }

    /// The script publishes at most once per key it carries; any other count is a bad reply (and
    /// summing an unchecked one could overflow).
    static func isNotificationCount(_ n: Int64, for args: [String]) -> Bool {
        n >= 0 && n <= Int64(args.count)
    }

    private func loadScript() throws(RedisError) {
        switch try connection.command(["SCRIPT", "LOAD", ProducerStateTableScript.text]) {
        case .string(let s): sha = s
        case .error(let e): throw RedisError(.refused, "SCRIPT LOAD: \(e)")
        case let other: throw RedisError(.reply, "SCRIPT LOAD: \(other)")
        }
    }

    /// ProducerStateTable `clear()` (warm start): drops every pending operation.
    public func clearPending() throws(RedisError) {
        var keys = [names.keySet, names.delSet]
        keys += try scanKeys(connection, match: names.stagingPrefix + "*")
        for chunk in stride(from: 0, to: keys.count, by: 1000) {
            let r = try connection.command(["DEL"] + keys[chunk..<min(chunk + 1000, keys.count)])
            if case .error(let e) = r { throw RedisError(.reply, "clear: \(e)") }
        }
    }
}
