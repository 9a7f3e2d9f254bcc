import Model
import Reconciler
import StoreObserver

/// Anti-entropy's reads of APPL_DB (`Effect.verifyStore`): the same read as a start's
/// (`StoreReading`), on a reader, thread and connection of their own, so neither the event loop nor
/// a reload waits for it. One read at a time; the core asks for the next an interval later.
public final class StoreVerifier {
    private unowned let context: ShellContext
    private let reader: any StoreReading
    /// The core's id of the read running, if any.
    private var running: UInt64?

    public init(context: ShellContext, reader: any StoreReading) {
        self.context = context
        self.reader = reader
    }

    /// The read's eventfd, for the runtime to poll.
    public var readDescriptor: Int32? { reader.fileDescriptor >= 0 ? reader.fileDescriptor : nil }

    func verify(id: UInt64, expected: Int) {
        guard running == nil else {
            context.enqueue(.storeVerifyFailed(id: id, reason: "the previous verifying read is still running"))
            return
        }
        running = id
        reader.start(clearingPending: false, expected: expected, failedTable: false)
    }

    /// Call when the read's descriptor is readable (or the fake's read ended).
    public func readEnded() {
        guard let result = reader.take(), let id = running else { return }
        running = nil
        switch result {
        case .success(let loaded):
            context.metrics.verifyLatency.observe(Double(loaded.milliseconds) / 1e3)
            context.log(
                .debug,
                "APPL_DB NEIGH_TABLE verified: \(loaded.snapshot.entries.count) entries, "
                    + "\(loaded.issues.count) malformed, in \(loaded.milliseconds) ms"
            )
            context.enqueue(.storeVerified(id: id, loaded.snapshot))
        case .failure(let error):
            context.metrics.redisErrors += 1
            context.enqueue(.storeVerifyFailed(id: id, reason: "\(error)"))
        }
    }
}
