import Model

/// Everything the runtime waits for by time: the core's timers and the shell's polls, in one heap.
public enum Deadline: Hashable, Sendable {
    /// A timer the core armed (`Effect.armTimer`).
    case timer(TimerID)
    /// Start-up: reading the start-up settings again after a failure.
    case startup
    /// Reading APPL_DB again after a failed read.
    case storeRead
    /// Warm start: the next look at the restore flag.
    case restoreCheck
    /// CONFIG_DB re-read when keyspace notifications are unavailable.
    case policyPoll
    /// The policy could not be read (or its subscription restored): try again.
    case policyRetry
    /// A kernel dump is outstanding: ask the observer whether it stalled.
    case dumpCheck
    /// The metrics textfile is due.
    case metrics
    /// Anti-entropy: subscribing to APPL_DB keyspace notifications again after a failure.
    case keyWatchRetry
    /// Anti-entropy: the keys gathered from keyspace notifications go to the core.
    case keyWatchReport
}

/// Deadlines by monotonic time in nanoseconds. Due ones come out in (time, arming) order, so a run
/// under a virtual clock is the same every time; re-arming a deadline replaces it.
public struct DeadlineHeap: Sendable {
    private struct Entry: Sendable {
        var at: UInt64
        var order: UInt64
        var deadline: Deadline
        func precedes(_ o: Entry) -> Bool { at != o.at ? at < o.at : order < o.order }
    }

    private var heap: [Entry] = []
    /// The arming that is current for each deadline; entries of older armings are skipped.
    private var current: [Deadline: UInt64] = [:]
    private var armings: UInt64 = 0

    public init() {}

    public mutating func arm(_ d: Deadline, at time: UInt64) {
        armings += 1
        current[d] = armings
        push(Entry(at: time, order: armings, deadline: d))
    }

    public mutating func cancel(_ d: Deadline) { current[d] = nil }

    public func isArmed(_ d: Deadline) -> Bool { current[d] != nil }

    /// The earliest deadline armed, if any.
    public mutating func next() -> UInt64? {
        dropStale()
        return heap.first?.at
    }

    /// The earliest deadline due at `now`, disarmed; nil when none is.
    public mutating func popDue(now: UInt64) -> Deadline? {
        dropStale()
        guard let top = heap.first, top.at <= now else { return nil }
        pop()
        current[top.deadline] = nil
        return top.deadline
    }

    private mutating func dropStale() {
        while let top = heap.first, current[top.deadline] != top.order { pop() }
    }

    private mutating func push(_ e: Entry) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].precedes(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var first = i
            if l < heap.count && heap[l].precedes(heap[first]) { first = l }
            if r < heap.count && heap[r].precedes(heap[first]) { first = r }
            guard first != i else { return }
            heap.swapAt(i, first)
            i = first
        }
    }
}
