import Glibc
import Model

extension KernelObserver {
    /// One complete, consistent dump of the kernel's neighbor table: taken again when it was
    /// interrupted (NLM_F_DUMP_INTR), overran, or a link was renamed meanwhile. For the one-shot
    /// commands (`kernel-dump`, `snapshot`); the daemon feeds the same events to its core instead.
    public func readTable(
        timeoutSeconds: Int = 10,
        skipped: (KernelSkip) -> Void = { _ in }
    )
        throws(KernelObserverError) -> [NeighborKey: KernelNeighbor]
    {
        while true {
            var table: [NeighborKey: KernelNeighbor] = [:]
            var finished = false
            var consistent = true
            var refused: Int32?
            try requestNeighborDump()
            while !finished {
                var p = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, Int32(timeoutSeconds * 1000)) > 0 else {
                    throw KernelObserverError(
                        operation: "neighbor dump: no answer within \(timeoutSeconds) s",
                        errno: ETIMEDOUT
                    )
                }
                let notice: (KernelNotice) -> Void = { n in
                    switch n {
                    case .malformed(let e): skipped(.malformed(e))
                    case .linkRefused(let l): skipped(.refusedLink(l))
                    }
                }
                try drain(notice: notice) { event in
                    switch event {
                    case .kernelMessage(let m):
                        guard let k = m.key else { return }
                        if m.type == .newNeighbor {
                            table[k] = m.neighbor
                        } else if m.type == .deleteNeighbor {
                            table[k] = nil
                        }
                    case .kernelDumpDone(let interrupted):
                        finished = true
                        consistent = consistent && !interrupted
                    case .kernelDumpFailed:
                        finished = true
                        refused = lastDumpRefusal ?? EIO
                    default:  // an overrun, a renamed link or a raced dump
                        consistent = false
                    }
                }
            }
            if let refused { throw KernelObserverError(operation: "neighbor dump refused", errno: refused) }
            if consistent { return table }
        }
    }
}

/// What a one-shot dump left out, for its caller to report.
public enum KernelSkip: Hashable, Sendable, CustomStringConvertible {
    case malformed(NetlinkParseError)
    case refusedLink(RefusedLink)

    public var description: String {
        switch self {
        case .malformed(let e): e.description
        case .refusedLink(let l): l.description
        }
    }
}
