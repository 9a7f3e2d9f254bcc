import CNetlink
import Foundation
import Glibc
import Model
import StoreObserver

/// Reads APPL_DB on a thread and a connection of its own, so the event loop goes on (the kernel
/// dump, the restore-flag wait, the reconcile timer) while Redis answers: a warm restart's read of
/// 100,000 entries no longer sits between start-up and the dump. One read at a time; the loop
/// learns that it ended when `fileDescriptor` (an eventfd) becomes readable, then calls `take()`.
final class StoreLoader: @unchecked Sendable {
    struct Loaded: Sendable {
        var snapshot: StoreSnapshot
        var issues: [SnapshotIssue]
        var milliseconds: UInt64
    }

    let fileDescriptor: Int32
    private let lock = NSLock()
    private var result: Result<Loaded, RedisError>?
    /// A read is running or its result has not been taken (event-loop side only).
    private(set) var busy = false

    init() throws {
        fileDescriptor = nsd_eventfd_open()
        guard fileDescriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: -fileDescriptor) ?? .EIO) }
    }

    /// Starts a read: a fresh connection, then ProducerStateTable `clear()` if `clearingPending`,
    /// then the snapshot. Ignored while another read is running.
    func start(databases: DatabaseConfig, password: String?, clearingPending: Bool, expected: Int) {
        guard !busy else { return }
        busy = true
        let t = Thread { [self] in
            let t0 = Daemon.monotonicNow()
            let r: Result<Loaded, RedisError>
            do throws(RedisError) {
                let c = try databases.connect("APPL_DB", password: password)
                if clearingPending { try ProducerStateTable(connection: c).clearPending() }
                let (snapshot, issues) = try StoreReader.snapshot(c, expected: expected)
                r = .success(Loaded(snapshot: snapshot, issues: issues, milliseconds: (Daemon.monotonicNow() - t0) / 1_000_000))
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

    /// The finished read's result, once `fileDescriptor` is readable; nil while it runs.
    func take() -> Result<Loaded, RedisError>? {
        var count: UInt64 = 0
        _ = read(fileDescriptor, &count, 8)
        guard let r = lock.withLock({ () -> Result<Loaded, RedisError>? in defer { result = nil }; return result }) else { return nil }
        busy = false
        return r
    }
}
