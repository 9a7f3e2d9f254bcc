/// Sums up the writes APPL_DB refused for the log: the first at once, then at most one line per
/// interval with a count, and one when writes are accepted again: a Redis that refuses for hours
/// must not flood the log with a line per retried batch.
struct RefusalLog {
    static let intervalNanoseconds: UInt64 = 5_000_000_000
    /// Refusals since writes were last accepted.
    private(set) var total = 0
    private var unreported = 0
    private var lastLine: UInt64?

    /// A batch was refused; returns the line to log now, if any.
    mutating func refused(_ reason: String, at now: UInt64) -> String? {
        total += 1
        unreported += 1
        guard let last = lastLine else {
            lastLine = now
            unreported = 0
            return "APPL_DB refused 1 write: \(reason); the connection is kept, retrying with backoff"
        }
        guard now - last >= Self.intervalNanoseconds else { return nil }
        defer {
            lastLine = now
            unreported = 0
        }
        return "APPL_DB refused \(unreported) writes in the last \((now - last) / 1_000_000_000) s: \(reason)"
    }

    /// A batch was acknowledged; returns the line to log if writes had been refused.
    mutating func accepted() -> String? {
        guard total > 0 else { return nil }
        defer { self = RefusalLog() }
        return "APPL_DB accepts writes again, after \(total) refused"
    }
}
