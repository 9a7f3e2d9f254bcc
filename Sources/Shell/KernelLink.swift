import Glibc
import KernelObserver
import Model

/// The kernel side: the netlink observer (opened at the first dump), its events straight into the
/// queue, the watch on a dump that stops making progress, and the dump's latency.
public final class KernelLink {
    private unowned let context: ShellContext
    private let open: () throws(KernelObserverError) -> KernelObserver
    public private(set) var observer: KernelObserver?
    private var dumpStartedAt: UInt64?
    /// While a dump is outstanding, how often to ask the observer whether it stalled.
    static let dumpCheckNanoseconds: UInt64 = 100_000_000
    /// Events read per turn, about: the queue the core drains holds at most this many and one
    /// datagram's more, so a 100,000-entry dump (a few hundred per datagram) or a burst of
    /// notifications (one per datagram) never sits in it whole, and neither costs a turn apiece.
    static let eventsPerTurn = 1024

    public init(context: ShellContext, open: @escaping () throws(KernelObserverError) -> KernelObserver) {
        self.context = context
        self.open = open
    }

    public var fileDescriptor: Int32? { observer.flatMap { $0.fileDescriptor >= 0 ? $0.fileDescriptor : nil } }

    func requestDump() {
        do {
            if observer == nil {
                let o = try open()
                let how = o.receiveBufferForced ? "SO_RCVBUFFORCE" : "SO_RCVBUF, capped by net.core.rmem_max"
                context.log(.notice, "netlink: receive buffer \(o.receiveBufferBytes) bytes (\(how))")
                observer = o
            }
            dumpStartedAt = context.now
            try observer?.requestNeighborDump()
            armDumpCheck()
        } catch {
            context.enqueue(.kernelDumpFailed(reason: "\(error)"))
        }
    }

    /// Call when the socket is readable: reads datagrams into the queue until it holds
    /// `eventsPerTurn` events or the socket is empty.
    public func readable() {
        guard let o = observer else { return }
        do {
            var drained = false
            while !drained && context.eventsQueued < Self.eventsPerTurn {
                drained = try o.drain(maxDatagrams: 1, notice: notice) { event in
                    if case .kernelDumpDone(let interrupted) = event { dumpEnded(interrupted: interrupted) }
                    context.enqueue(event)
                }
            }
        } catch {
            context.log(.error, "\(error)")
        }
        armDumpCheck()
    }

    private func dumpEnded(interrupted: Bool) {
        guard let t = dumpStartedAt else { return }
        let elapsed = context.now - min(context.now, t)
        context.metrics.dumpLatency.observe(Double(elapsed) / 1e9)
        let how = interrupted ? "interrupted" : "complete"
        context.log(.notice, "kernel neighbor dump \(how) after \(elapsed / 1_000_000) ms")
    }

    private func notice(_ n: KernelNotice) {
        switch n {
        case .malformed(let e): context.log(.warning, "netlink: \(e); skipped")
        case .linkRefused(let l): context.log(.warning, "netlink: \(l)")
        }
    }

    /// A dump that makes no progress is nudged, then abandoned (`KernelObserver.checkDump`); the
    /// core redoes an abandoned one as it does a refused one.
    func checkDump() {
        guard let o = observer else { return }
        do {
            switch try o.checkDump(now: context.now) {
            case .idle, .waiting:
                break
            case .nudged(let stalled):
                context.log(.info, "kernel neighbor dump: no progress for \(stalled / 1_000_000) ms; nudged the kernel")
            case .abandoned(let stalled):
                context.metrics.dumpsStalled += 1
                context.enqueue(
                    .kernelDumpFailed(
                        reason: "netlink dump made no progress for \(stalled / 1_000_000) ms; "
                            + "abandoned, netlink socket reopened"
                    )
                )
            }
        } catch {  // abandoned, but no fresh socket: the old one is kept, and dumped again
            context.metrics.dumpsStalled += 1
            context.enqueue(
                .kernelDumpFailed(
                    reason: "netlink dump made no progress; abandoned; reopening the socket: \(error)"
                )
            )
        }
        armDumpCheck()
    }

    private func armDumpCheck() {
        guard !context.deadlines.isArmed(.dumpCheck), observer?.dumpOutstanding == true else { return }
        context.arm(.dumpCheck, afterNanoseconds: Self.dumpCheckNanoseconds)
    }
}
