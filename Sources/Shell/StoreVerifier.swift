import Model
import Reconciler
import StoreObserver

/// Anti-entropy's reads of APPL_DB (`Effect.verifyStore`): the same read as a start's
/// (`StoreReading`), on a reader, thread and connection of their own, so neither the event loop nor
/// a reload waits for it. One read at a time; the core asks for the next an interval later. A
/// request while a read runs means the core abandoned that read (a reload, a lost store): its
/// result is dropped and the newest request starts once it ends.
public final class StoreVerifier {
    private unowned let context: ShellContext
    private let reader: any StoreReading
    /// The core's id of the read running, if any.
    private var running: UInt64?
    /// The newest read asked for while one ran: the id and entries expected.
    private var next: (id: UInt64, expected: Int)?

    public init(context: ShellContext, reader: any StoreReading) {
        self.context = context
        self.reader = reader
    }

    /// The read's eventfd, for the runtime to poll.
    public var readDescriptor: Int32? { reader.fileDescriptor >= 0 ? reader.fileDescriptor : nil }

    func verify(id: UInt64, expected: Int) {
        guard running == nil else {
            next = (id, expected)
            return
        }
        running = id
        reader.start(clearingPending: false, expected: expected, failedTable: false)
    }

    /// Call when the read's descriptor is readable (or the fake's read ended).
    public func readEnded() {
        guard let result = reader.take(), let id = running else { return }
        running = nil
        if let n = next {
            next = nil
            if case .failure(let error) = result {
                context.metrics.redisErrors += 1
                context.log(.info, "abandoned verifying read of APPL_DB failed: \(error); reading again")
            }
            verify(id: n.id, expected: n.expected)
            return
        }
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
