/// What `KernelObserver.checkDump(now:)` found and did.
public enum DumpCheck: Hashable, Sendable {
    /// No dump is outstanding.
    case idle
    /// The dump made progress, or has not been still long enough to act on.
    case waiting
    /// No progress for `stalledNanoseconds` with the socket drained: the kernel was sent a request
    /// whose answer lets a dump that is waiting for room go on.
    case nudged(stalledNanoseconds: UInt64)
    /// No progress for `stalledNanoseconds`: the dump was given up and the socket opened afresh.
    case abandoned(stalledNanoseconds: UInt64)
}

/// Decides when a dump that is waited for has stalled, from a count of its messages and the
/// time (given, so that it is testable). The kernel continues a dump only after a datagram was
/// received with room in the queue; one that found the queue full while the reader drained it
/// empty waits for a datagram that may never come, and a request refused into a full queue is
/// answered by nothing at all (af_netlink.c drops what does not fit).
struct DumpWatch {
    /// Still this long with the socket drained: nudge (again after as long).
    static let nudgeAfterNanoseconds: UInt64 = 300_000_000
    /// Still this long with the socket drained: give the dump up.
    static let abandonAfterNanoseconds: UInt64 = 2_500_000_000

    enum Action: Equatable {
        case none
        case nudge(stalledNanoseconds: UInt64)
        case abandon(stalledNanoseconds: UInt64)
    }

    private var progress: UInt64
    private var since: UInt64
    private var nudgedAt: UInt64?

    init(progress: UInt64, now: UInt64) {
        self.progress = progress
        since = now
    }

    /// `progress` counts the dump's messages; `drained`: the last read found the socket empty.
    mutating func check(progress: UInt64, now: UInt64, drained: Bool) -> Action {
        guard progress == self.progress else {
            self = DumpWatch(progress: progress, now: now)
            return .none
        }
        // Datagrams still queued are read first: the dump may be among them, or go on after them.
        let stalled = now > since ? now - since : 0
        guard drained else { return .none }
        if stalled >= Self.abandonAfterNanoseconds { return .abandon(stalledNanoseconds: stalled) }
        guard stalled >= Self.nudgeAfterNanoseconds else { return .none }
        if let last = nudgedAt, now < last + Self.nudgeAfterNanoseconds { return .none }
        nudgedAt = now
        return .nudge(stalledNanoseconds: stalled)
    }
}
