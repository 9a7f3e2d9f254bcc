import Model
import StoreObserver

/// APPL_DB as read back: the snapshot, what in it was malformed, how long it took.
public struct LoadedStore: Sendable {
    public var snapshot: StoreSnapshot
    public var issues: [SnapshotIssue]
    public var milliseconds: UInt64
    /// Dual-ToR: the `NEIGH_FAILED_TABLE` rows APPL_DB holds (spec §12); nil when not read.
    public var failedNeighbors: Set<NeighborKey>?

    public init(
        snapshot: StoreSnapshot,
        issues: [SnapshotIssue],
        milliseconds: UInt64,
        failedNeighbors: Set<NeighborKey>? = nil
    ) {
        self.snapshot = snapshot
        self.issues = issues
        self.milliseconds = milliseconds
        self.failedNeighbors = failedNeighbors
    }
}

/// Reads APPL_DB while the event loop goes on: on a thread and a connection of its own
/// (`StoreLoader`), or a test's fake that answers at a virtual time, or fails.
public protocol StoreReading: AnyObject {
    /// Readable when a read ended; -1 when there is nothing to poll (a fake).
    var fileDescriptor: Int32 { get }
    /// Starts a read: ProducerStateTable `clear()` first if `clearingPending`, then the snapshot,
    /// and `NEIGH_FAILED_TABLE` if `failedTable` (dual-ToR). Ignored while another read is running.
    func start(clearingPending: Bool, expected: Int, failedTable: Bool)
    /// The finished read's result, once `fileDescriptor` is readable; nil while it runs.
    func take() -> Result<LoadedStore, RedisError>?
}
