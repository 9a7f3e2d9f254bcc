/// How long to wait before trying again after failures in a row: `initialMilliseconds` after the
/// first, doubled after each further one, never more than `maximumMilliseconds`. One rule for
/// every retry (a Redis reconnect, a store or policy read, a refused write), so none can hammer.
public struct Backoff: Hashable, Sendable {
    public var initialMilliseconds: Int
    public var maximumMilliseconds: Int

    public init(initialMilliseconds: Int = 100, maximumMilliseconds: Int = 5000) {
        self.initialMilliseconds = max(1, initialMilliseconds)
        self.maximumMilliseconds = max(self.initialMilliseconds, maximumMilliseconds)
    }

    /// The wait after `failures` failures in a row (1 for the first). Doubles by steps that stop
    /// at the maximum, so no count of failures can overflow it.
    public func milliseconds(afterFailures failures: Int) -> Int {
        var delay = initialMilliseconds
        var doublings = failures - 1
        while doublings > 0, delay < maximumMilliseconds {
            delay = delay > maximumMilliseconds / 2 ? maximumMilliseconds : delay * 2
            doublings -= 1
        }
        return delay
    }
}
