import Model
import StoreObserver

/// The APPL_DB side: the connection the batches go out on, the batches waiting for their journal
/// record, the batches sent and awaiting replies (the one place they live), and the reads of the
/// whole table. Replies are matched to batches in the order they were sent.
public final class StoreLink {
    private unowned let context: ShellContext
    private let journal: JournalLink
    /// Opens a fresh APPL_DB connection.
    private let connect: () throws(RedisError) -> any RedisTransport
    private let reader: any StoreReading
    private var appl: (any RedisTransport)?
    private var writer: ProducerStateTable?
    private var routeWriter: ProducerStateTable?
    private var failedWriter: ProducerStateTable?
    /// NEIGH_FAILED_TABLE operations gathered this turn: sent before the next batch or host route,
    /// or at the end of the turn, whichever comes first.
    private var failedPending: [FailedNeighborChange] = []
    /// Batches the core wrote whose `batchWritten` record is not committed yet, oldest first.
    private var held: [Batch] = []
    /// Batches sent whose replies are still to be read, oldest first, and when each was sent.
    private var sent: [ProducerStateTable.SentBatch] = []
    private var sentAt: [UInt64] = []
    private var readWanted = false
    /// The size the core expects the table to have (to size the read's table once).
    private var readExpected = 0
    /// The read includes `NEIGH_FAILED_TABLE` (a dual-ToR when it was asked for).
    private var readFailedTable = false
    /// The next read starts with ProducerStateTable `clear()` (until one succeeds).
    private var clearPending = false
    /// Reads of APPL_DB failed in a row: sets the wait before the next.
    private var readFailures = 0
    private var refusals = RefusalLog()
    /// Told each batch id as it goes out (tests check the journal's durability rule with it).
    public var onSend: ((UInt64) -> Void)?

    public init(
        context: ShellContext,
        journal: JournalLink,
        reader: any StoreReading,
        connect: @escaping () throws(RedisError) -> any RedisTransport
    ) {
        self.context = context
        self.journal = journal
        self.reader = reader
        self.connect = connect
    }

    /// Replies are awaited: the runtime looks at its sockets without waiting, then `collect`s.
    public var awaitingReplies: Bool { !sent.isEmpty }
    /// Batches wait for their journal record.
    public var holdingBatches: Bool { !held.isEmpty }
    /// The APPL_DB connection, polled while idle: Redis closing it (a restart, CLIENT KILL) must be
    /// noticed even when nothing is being written, or a restarted, empty APPL_DB stays empty.
    public var connectionDescriptor: Int32? {
        guard let fd = appl?.fileDescriptor, fd >= 0, sent.isEmpty else { return nil }
        return fd
    }
    /// The read's eventfd, for the runtime to poll.
    public var readDescriptor: Int32? { reader.fileDescriptor >= 0 ? reader.fileDescriptor : nil }
    /// The connection is usable and the last read did not fail.
    var up: Bool { appl?.broken == false && !context.deadlines.isArmed(.storeRead) }

    // MARK: reading the table

    func load(clearingPending: Bool, expected: Int, failedTable: Bool) {
        readWanted = true
        readExpected = expected
        readFailedTable = failedTable
        clearPending = clearPending || clearingPending
        startRead()
    }

    private func startRead() {
        guard readWanted else { return }
        reader.start(clearingPending: clearPending, expected: readExpected, failedTable: readFailedTable)
    }

    /// The deadline of a failed read passed.
    func retryRead() { startRead() }

    /// Call when the read's descriptor is readable (or the fake's read ended).
    public func readEnded() {
        guard let result = reader.take() else { return }
        do throws(RedisError) {
            let loaded = try result.get()
            // Batches go out on the loop's own connection: have one before the core may write.
            if appl == nil || appl?.broken == true {
                use(try connect())
                context.metrics.redisReconnects += 1
                context.log(.notice, "APPL_DB reconnected")
            }
            if clearPending {
                context.log(.notice, "APPL_DB: pending NEIGH_TABLE operations of the previous instance cleared")
            }
            context.log(
                .notice,
                "APPL_DB NEIGH_TABLE read: \(loaded.snapshot.entries.count) entries, "
                    + "\(loaded.issues.count) malformed, "
                    + (loaded.failedNeighbors.map { "\($0.count) NEIGH_FAILED_TABLE rows, " } ?? "")
                    + "in \(loaded.milliseconds) ms"
            )
            for i in loaded.issues.prefix(100) { context.log(.warning, "\(i)") }
            if loaded.issues.count > 100 {
                context.log(.warning, "… and \(loaded.issues.count - 100) more malformed APPL_DB entries")
            }
            readWanted = false
            clearPending = false
            readFailures = 0
            context.enqueue(.storeLoaded(loaded.snapshot, failedNeighbors: loaded.failedNeighbors))
        } catch {
            // The read had a connection of its own: the loop's is left as it is.
            context.retry(.storeRead, after: error, "reading APPL_DB", failures: &readFailures)
        }
    }

    /// Takes the connection the first read made, at start-up (none before: the read makes one).
    private func use(_ c: any RedisTransport) {
        appl = c
        writer = ProducerStateTable(connection: c)
        routeWriter = ProducerStateTable(
            connection: c,
            names: ProducerStateTableNames(table: "ROUTE_TABLE", databaseID: c.database)
        )
        failedWriter = ProducerStateTable(connection: c, names: .neighFailedTable.on(database: c.database))
    }

    /// Call when the idle connection is readable: Redis closed it (or sent what nobody asked for).
    /// The store's content is then unknown: the core reads it again.
    public func connectionReadable() {
        guard let c = appl, sent.isEmpty else { return }
        do throws(RedisError) {
            let unasked = try c.readAvailable()
            guard !unasked.isEmpty else { return }
            throw RedisError(.reply, "replies nobody asked for: \(unasked.prefix(3))")
        } catch {
            context.log(.error, "APPL_DB connection lost while idle: \(error)")
            failed(error)
            context.enqueue(.storeUnavailable)
        }
    }

    // MARK: writing

    /// Sends the batch once its `batchWritten` record is committed (at once when it is).
    func write(_ batch: Batch) {
        if held.isEmpty && journal.isCommitted(batch: batch.id) { send(batch) } else { held.append(batch) }
    }

    /// The journal committed more: sends the batches held for it, in order.
    func journalAdvanced() {
        while let b = held.first, journal.isCommitted(batch: b.id) {
            held.removeFirst()
            send(b)
        }
    }

    /// Sends a batch and returns: `collect` reads its replies once the loop has looked at its
    /// sockets, so Redis works on it while the core builds the next one.
    private func send(_ batch: Batch) {
        sendFailedNeighbors()
        guard let w = writer else {
            context.enqueue(.batchFailed(id: batch.id, reason: "APPL_DB not connected"))
            return
        }
        do {
            sent.append(try w.send(batch))
            sentAt.append(context.now)
            context.log(.debug, "sent batch \(batch.id): \(batch.changes.count) changes")
            onSend?(batch.id)
        } catch {
            failed(error, alsoLost: batch.id)
        }
    }

    /// Reads the replies of the oldest batch sent (waiting for them) and reports what completed.
    public func collect() {
        guard let oldest = sent.first else { return }
        do throws(RedisError) {
            guard let w = writer else { throw RedisError(.io, "APPL_DB not connected") }
            let reply = try w.collect(&sent)
            let sentTime = sentAt.removeFirst()
            if let refusal = reply.refusal {
                refused(id: reply.id, refusal)
                return
            }
            let now = context.now
            context.metrics.batchLatency.observe(Double(now - min(now, sentTime)) / 1e9)
            context.log(.info, "applied batch \(reply.id): \(oldest.sets) set, \(oldest.dels) del")
            if let line = refusals.accepted() { context.log(.notice, line) }
            context.enqueue(.batchAcknowledged(id: reply.id))
        } catch {
            failed(error)
        }
    }

    /// Redis answered with an error reply (OOM, WRONGTYPE): the connection is fine and is kept;
    /// the core writes the batch again after a backoff. The log sums the refusals up.
    private func refused(id: UInt64, _ reason: String) {
        if let line = refusals.refused(reason, at: context.now) { context.log(.warning, line) }
        context.enqueue(.batchRefused(id: id, reason: reason))
    }

    /// The connection is gone (or its replies made no sense) with every reply still awaited: none
    /// of those batches, nor those held for the journal, is acknowledged; the core reads the store
    /// again, and the next read opens a fresh connection.
    private func failed(_ error: RedisError, alsoLost unsent: UInt64? = nil) {
        context.metrics.redisErrors += 1
        appl = nil
        writer = nil
        routeWriter = nil
        failedWriter = nil
        failedPending = []  // the core's next read of APPL_DB repairs the rows
        let lost = sent.map(\.id) + (unsent.map { [$0] } ?? []) + held.map(\.id)
        sent = []
        sentAt = []
        held = []
        for id in lost { context.enqueue(.batchFailed(id: id, reason: "\(error)")) }
    }

    /// EVPN: `ROUTE_TABLE` del `<vrf>:<ip>` on the same connection, after the replies of the
    /// batches sent (nothing may be awaited when a command is sent).
    func removeHostRoute(vrf: InterfaceName, ip: IPAddress) {
        sendFailedNeighbors()
        while !sent.isEmpty { collect() }
        do {
            try routeWriter?.delete(keys: ["\(vrf):\(ip)"])
        } catch {
            context.log(.error, "ROUTE_TABLE del \(vrf):\(ip): \(error)")
        }
    }

    /// Dual-ToR: `NEIGH_FAILED_TABLE` operations, gathered until the turn ends or a batch or a host
    /// route is sent, whichever is first: so they precede on the wire every batch the core emitted
    /// after them (the NEIGH_TABLE op of the same message among them), and a burst costs one round
    /// trip per turn, not one per message as upstream pays.
    func writeFailedNeighbors(_ changes: [FailedNeighborChange]) { failedPending += changes }

    /// Sends the gathered operations in one call on the batches' connection, after the replies of
    /// the batches sent.
    func sendFailedNeighbors() {
        guard !failedPending.isEmpty else { return }
        let changes = failedPending
        failedPending = []
        while !sent.isEmpty { collect() }
        guard let w = failedWriter else {
            // Lost with the connection: the core reads APPL_DB again and repairs the rows then.
            context.log(.warning, "NEIGH_FAILED_TABLE: not connected; \(changes.count) operations left to the re-read")
            return
        }
        do throws(RedisError) {
            try w.run(changes, what: "NEIGH_FAILED_TABLE")
            for c in changes {
                context.log(.info, "NEIGH_FAILED_TABLE \(c)")
                if case .set = c { context.metrics.failedTableSets += 1 } else { context.metrics.failedTableDels += 1 }
            }
        } catch let error where error.kind == .refused {
            context.metrics.failedTableRefused += changes.count
            // The connection is fine (OOM, WRONGTYPE): not retried; upstream would abort here.
            context.log(.error, "NEIGH_FAILED_TABLE: \(changes.count) operations refused, not retried: \(error)")
        } catch {
            context.log(.error, "NEIGH_FAILED_TABLE: \(error)")
            failed(error)
            context.enqueue(.storeUnavailable)
        }
    }
}
