import CNetlink
import Foundation
import Glibc
import Model
import StoreObserver

/// Reads APPL_DB on a thread and a connection of its own, so the event loop goes on (the kernel
/// dump, the restore-flag wait, the reconcile timer) while Redis answers: a warm restart's read of
/// 100,000 entries does not sit between start-up and the dump. One read at a time; the loop
/// learns that it ended when `fileDescriptor` (an eventfd) becomes readable, then calls `take()`.
public final class StoreLoader: StoreReading, @unchecked Sendable {
    public let fileDescriptor: Int32
    private let databases: DatabaseConfig
    private let password: String?
    private let lock = NSLock()
    private var result: Result<LoadedStore, RedisError>?
    /// A read is running or its result has not been taken (event-loop side only).
    private var busy = false

    public init(databases: DatabaseConfig, password: String?) throws {
        fileDescriptor = nsd_eventfd_open()
        guard fileDescriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: -fileDescriptor) ?? .EIO) }
        self.databases = databases
        self.password = password
    }

    public func start(clearingPending: Bool, expected: Int, failedTable: Bool) {
        guard !busy else { return }
        busy = true
        let t = Thread { [self] in
            let t0 = PosixClock.now()
            let r: Result<LoadedStore, RedisError>
            do throws(RedisError) {
                let c = try databases.connect("APPL_DB", password: password)
                if clearingPending { try ProducerStateTable(connection: c).clearPending() }
                let (snapshot, issues) = try StoreReader.snapshot(c, expected: expected)
                let failed =
                    failedTable
                    ? try StoreReader.failedNeighbors(c, names: .neighFailedTable.on(database: c.database)) : nil
                let ms = (PosixClock.now() - t0) / 1_000_000
                r = .success(
                    LoadedStore(
                        snapshot: snapshot,
                        issues: issues + (failed?.issues ?? []),
                        milliseconds: ms,
                        failedNeighbors: failed?.keys
                    )
                )
            } catch {
                r = .failure(error)
            }
            lock.withLock { result = r }
            var one: UInt64 = 1
            _ = write(fileDescriptor, &one, 8)
        }
        t.name = "appl-db-read"
        t.start()
    }

    public func take() -> Result<LoadedStore, RedisError>? {
        var count: UInt64 = 0
        _ = read(fileDescriptor, &count, 8)
        let r = lock.withLock { () -> Result<LoadedStore, RedisError>? in
            defer { result = nil }
            return result
        }
        guard let r else { return nil }
        busy = false
        return r
    }
}
