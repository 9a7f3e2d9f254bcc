import Model
import StoreObserver

/// What the handlers share, as swift-nio's handlers share their channel's context: the event queue
/// every source feeds, the deadline heap, the clock, the log and the metrics. Owned by `Shell`.
public final class ShellContext {
    /// Monotonic nanoseconds: the system's, or an embedded runtime's virtual clock.
    public let clock: () -> UInt64
    /// A number in 0...bound, for retry jitter: the system's, or a seeded generator's.
    public let random: (_ bound: Int) -> Int
    let log: (LogLevel, String) -> Void
    public internal(set) var metrics = Metrics()
    public internal(set) var deadlines = DeadlineHeap()
    private let retryBackoff = Backoff()
    private var queue: [Event] = []
    private var head = 0

    public init(
        clock: @escaping () -> UInt64,
        random: @escaping (Int) -> Int,
        log: @escaping (LogLevel, String) -> Void
    ) {
        self.clock = clock
        self.random = random
        self.log = log
    }

    public var now: UInt64 { clock() }

    /// Every source hands its events here; the runtime feeds them to the core at its next turn.
    public func enqueue(_ e: Event) { queue.append(e) }

    /// The oldest event not yet fed to the core.
    func dequeue() -> Event? {
        guard head < queue.count else {
            if head > 0 {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            return nil
        }
        head += 1
        return queue[head - 1]
    }

    public var eventsQueued: Int { queue.count - head }

    /// The earliest deadline armed, if any.
    public func nextDeadline() -> UInt64? { deadlines.next() }

    /// A Redis read failed: counts and logs it and arms `deadline` for the next try, after the wait
    /// `failures` in a row call for (100 ms doubling to 5 s, one rule for every retry).
    func retry(_ deadline: Deadline, after error: RedisError, _ what: String, failures: inout Int) {
        metrics.redisErrors += 1
        failures += 1
        let wait = retryBackoff.milliseconds(afterFailures: failures)
        log(.error, "\(what): \(error); retrying in \(wait) ms")
        arm(deadline, afterMilliseconds: wait)
    }

    public func arm(_ d: Deadline, afterMilliseconds ms: Int) {
        deadlines.arm(d, at: now + UInt64(max(0, ms)) * 1_000_000)
    }

    func arm(_ d: Deadline, afterNanoseconds ns: UInt64) { deadlines.arm(d, at: now + ns) }
}
