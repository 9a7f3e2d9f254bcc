import Model

/// The journal as the runtime uses it. Its durability rule: a batch is sent to APPL_DB only once
/// its `batchWritten` record is committed. So after a kill -9 at any instant the journal knows
/// every batch Redis may have applied (as applied, or as in flight with its outcome unknown), and
/// the next start hands out no batch id that was used before. The other records are not waited
/// for: they only make the next start's hint fresher, and the fresh reads supersede them.
public final class JournalLink {
    let sink: (any JournalSink)?
    /// The position of each batch's `batchWritten` record not yet known to be committed.
    private var pendingBatches: [(id: UInt64, position: UInt64)] = []
    /// The sink was told the loop is idle (a record submitted since counts as busy, there too).
    private var toldIdle = false

    /// `sink` nil: running without a journal, nothing to wait for.
    public init(sink: (any JournalSink)?) { self.sink = sink }

    func record(_ r: JournalRecord) {
        guard let sink else { return }
        toldIdle = false
        let position = sink.submit(r)
        if case .batchWritten(let b) = r { pendingBatches.append((b.id, position)) }
    }

    /// The batch's `batchWritten` record is committed (or there is no journal, or it was long ago).
    func isCommitted(batch id: UInt64) -> Bool {
        guard let sink, let pending = pendingBatches.first(where: { $0.id == id }) else { return true }
        return pending.position <= sink.batchesCommittedThrough
    }

    /// Call when `fileDescriptor` is readable: forgets the records committed since.
    func readable() {
        guard let sink else { return }
        sink.takeWakeups()
        let committed = sink.batchesCommittedThrough
        pendingBatches.removeAll { $0.position <= committed }
    }

    public var fileDescriptor: Int32? { sink.map(\.fileDescriptor).flatMap { $0 >= 0 ? $0 : nil } }
    var idle: Bool { sink?.idle ?? true }
    /// Each change of the loop's state is told once, not once per turn (a lock each).
    func loopIsIdle() {
        guard !toldIdle else { return }
        toldIdle = true
        sink?.loopIsIdle()
    }

    func loopIsBusy() {
        guard toldIdle else { return }
        toldIdle = false
        sink?.loopIsBusy()
    }
    var errors: Int { sink?.errors ?? 0 }
    func finish() { sink?.finish() }
}
