import Model

/// Writes batches to `NEIGH_TABLE` with the effects of SONiC's ProducerStateTable (spec §4):
/// per key, SADD to the key set; a SET HSETs `neigh` then `family` into the staging hash; a DEL
/// adds the key to the delete set and removes the staging hash; at least one PUBLISH per 128 keys.
/// A batch goes out as transactions of up to `keysPerTransaction` keys each
/// (`ProducerStateTransaction`), laid out in the Redis protocol straight from the changes into one
/// reused buffer, pipelined.
public final class ProducerStateTable {
    public let connection: any RedisTransport
    public let names: ProducerStateTableNames
    /// Keys carried by one transaction.
    public let keysPerTransaction: Int
    /// The protocol of the batch being sent, and its key texts: reused from batch to batch.
    private var buffer: [UInt8] = []
    private var keys = ProducerStateTransaction.KeyScratch()

    /// A batch sent and not yet answered: what `collect` needs to read its replies. The caller
    /// keeps them, oldest first.
    public struct SentBatch: Sendable {
        public let id: UInt64
        public let sets: Int
        public let dels: Int
        let what: String
        /// The commands queued in each of its transactions.
        let transactions: [Int]
    }

    /// What Redis answered to one batch.
    public struct BatchReply: Hashable, Sendable {
        public var id: UInt64
        /// The first error reply (OOM, WRONGTYPE, EXECABORT, …): Redis refused a transaction of
        /// the batch, which changed nothing; the connection is fine. nil: every transaction ran.
        public var refusal: String?
    }

    public init(
        connection: any RedisTransport,
        names: ProducerStateTableNames = .neighTable,
        keysPerTransaction: Int = 1000
    ) {
        self.connection = connection
        self.names = names
        self.keysPerTransaction = max(1, keysPerTransaction)
    }

    /// Writes the whole batch and reads back every reply. Throws if any reply is missing (`.io`)
    /// or a transaction was refused (`.refused`): the batch is then not acknowledged.
    public func write(_ batch: Batch) throws(RedisError) {
        try sendAndCollect(batch.changes, replacing: batch.replacing, what: "batch \(batch.id)")
    }

    /// Sends a batch's transactions without waiting for their replies, so Redis works on it while
    /// the caller builds the next one. `collect` reads the replies, oldest batch first.
    public func send(_ batch: Batch) throws(RedisError) -> SentBatch {
        try send(batch.changes, id: batch.id, replacing: batch.replacing, what: "batch \(batch.id)")
    }

    /// Deletes keys given as text, for tables whose keys are not neighbor keys (EVPN: the
    /// `ROUTE_TABLE` host route `<vrf>:<ip>`). Same effects as a DEL in a batch. Nothing else may
    /// be awaiting replies on the connection.
    public func delete(keys: [String]) throws(RedisError) {
        try sendAndCollect(keys.map(KeyDeletion.init), what: "delete")
    }

    /// Runs operations in order and reads every reply: the writes of a table whose changes are
    /// not NEIGH_TABLE batches (`NEIGH_FAILED_TABLE`). Nothing else may be awaiting replies on
    /// the connection.
    public func run<Operation: ProducerStateOperation>(_ operations: [Operation], what: String) throws(RedisError) {
        try sendAndCollect(operations, what: what)
    }

    private func sendAndCollect<Operation: ProducerStateOperation>(
        _ operations: [Operation],
        replacing: Set<NeighborKey> = [],
        what: String
    ) throws(RedisError) {
        guard connection.repliesAwaited == 0 else {
            throw RedisError(.reply, "\(what): \(connection.repliesAwaited) replies still awaited on the connection")
        }
        var sent = [try send(operations, id: 0, replacing: replacing, what: what)]
        if let refusal = try collect(&sent).refusal { throw RedisError(.refused, "\(what): \(refusal)") }
    }

    /// Lays the operations out as transactions of `keysPerTransaction` keys and sends them.
    private func send<Operation: ProducerStateOperation>(
        _ operations: [Operation],
        id: UInt64,
        replacing: Set<NeighborKey> = [],
        what: String
    ) throws(RedisError) -> SentBatch {
        buffer.removeAll(keepingCapacity: true)
        var transactions: [Int] = []
        let replacingText = Set(replacing.lazy.map(\.description))
        for start in stride(from: 0, to: operations.count, by: keysPerTransaction) {
            let chunk = operations[start..<min(start + keysPerTransaction, operations.count)]
            transactions.append(
                ProducerStateTransaction.append(chunk, names: names, keys: &keys, replacing: replacingText, to: &buffer)
            )
        }
        if !transactions.isEmpty {
            // MULTI, the queued commands and EXEC each give one reply.
            try connection.appendProtocol(buffer, commands: transactions.reduce(0) { $0 + $1 + 2 })
            try connection.flush()
        }
        let sets = operations.lazy.filter(\.isSet).count
        return SentBatch(
            id: id,
            sets: sets,
            dels: operations.count - sets,
            what: what,
            transactions: transactions
        )
    }

    /// Reads the replies of the oldest batch of `sent`, checks each and removes the batch from
    /// `sent`. An error reply (OOM, WRONGTYPE) or an aborted transaction refuses the batch; its
    /// other replies are still read, so the connection stays in step. Throws if a reply is missing
    /// or of a kind no command gives; nothing sent is then acknowledged, and `sent` is left as it
    /// was (the caller reports every batch in it as lost).
    public func collect(_ sent: inout [SentBatch]) throws(RedisError) -> BatchReply {
        guard let batch = sent.first else { throw RedisError(.reply, "no batch awaits replies") }
        var refusal: String?
        for queued in batch.transactions {
            let r = try readTransaction(queued: queued, what: batch.what)
            refusal = refusal ?? r
        }
        sent.removeFirst()
        return BatchReply(id: batch.id, refusal: refusal)
    }

    /// Reads the replies of one transaction: MULTI's `OK`, `QUEUED` per command, then EXEC's
    /// array of one result per command. Returns the first error: a command refused when queued
    /// (EXEC then aborts the whole transaction) or one that failed when run.
    private func readTransaction(queued: Int, what: String) throws(RedisError) -> String? {
        var refusal: String?
        switch try connection.reply() {
        case .status("OK"): break
        case .error(let e): refusal = "MULTI: \(e)"
        case let other: throw RedisError(.reply, "\(what): MULTI answered \(other)")
        }
        for _ in 0..<queued {
            switch try connection.reply() {
            case .status("QUEUED"): break
            case .error(let e): refusal = refusal ?? e
            case let other: throw RedisError(.reply, "\(what): a queued command answered \(other)")
            }
        }
        switch try connection.reply() {
        case .array(let results) where results.count == queued:
            for case .error(let e) in results {
                refusal = refusal ?? e
            }
        case .null: refusal = refusal ?? "EXEC: transaction discarded"
        case .error(let e): refusal = refusal ?? e
        case let other: throw RedisError(.reply, "\(what): EXEC of \(queued) commands answered \(other)")
        }
        return refusal
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
