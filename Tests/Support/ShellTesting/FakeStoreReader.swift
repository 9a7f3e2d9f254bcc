import Model
import Shell
import StoreObserver

/// Reads the fake server's NEIGH_TABLE, ending `latency` of virtual time after it starts (or
/// failing, when the server is down at that moment).
public final class FakeStoreReader: StoreReading {
    private let server: FakeRedisServer
    private let clock: () -> UInt64
    public var latencyNanoseconds: UInt64 = 2_000_000
    public let fileDescriptor: Int32 = -1
    /// When the running read ends.
    public private(set) var endsAt: UInt64?
    public private(set) var readsStarted = 0

    public init(server: FakeRedisServer, clock: @escaping () -> UInt64) {
        self.server = server
        self.clock = clock
    }

    private var failedTable = false

    public func start(clearingPending: Bool, expected: Int, failedTable: Bool) {
        guard endsAt == nil else { return }
        self.failedTable = failedTable
        readsStarted += 1
        endsAt = clock() + latencyNanoseconds
    }

    public func take() -> Result<LoadedStore, RedisError>? {
        guard let end = endsAt, end <= clock() else { return nil }
        endsAt = nil
        guard server.up else { return .failure(RedisError(.connect, "fake redis: connection refused")) }
        return .success(
            LoadedStore(
                snapshot: server.snapshot,
                issues: [],
                milliseconds: 0,
                failedNeighbors: failedTable ? server.failedNeighbors : nil
            )
        )
    }
}
