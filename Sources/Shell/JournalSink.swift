import Model

/// Where journal records go: SQLite on a thread of its own (`JournalWriter`), or a test's fake that
/// commits them at virtual times and can lose the ones still queued, as a kill -9 does.
public protocol JournalSink: AnyObject {
    /// Queues a record, to be committed after every record submitted before it. Returns its
    /// position: 1 for the first record, then 2, …
    func submit(_ record: JournalRecord) -> UInt64
    /// Every `batchWritten` record up to this position is committed: in the file, where a kill -9
    /// cannot undo it. (The other records may be committed later than a `batchWritten` submitted
    /// after them; see `JournalWriter`.)
    var batchesCommittedThrough: UInt64 { get }
    /// Readable when `batchesCommittedThrough` advanced; -1 when there is nothing to poll (a fake).
    var fileDescriptor: Int32 { get }
    /// Clears the readiness of `fileDescriptor`.
    func takeWakeups()
    /// The event loop is about to sleep with no reply awaited and no batch held: housekeeping (a
    /// fold, a checkpoint) may run once nothing is submitted for a while.
    func loopIsIdle()
    /// The event loop has events to handle again: housekeeping waits for the next idle moment.
    func loopIsBusy()
    /// Nothing queued and nothing being written.
    var idle: Bool { get }
    /// Records that could not be written (each reported when it happened).
    var errors: Int { get }
    /// Blocks until everything submitted is written, then folds the WAL into the file (at exit).
    func finish()
}
