/// Spaces probes so a large table does not flood the link: at most `perSecond` on average,
/// `burst` at once. Pure: the caller sleeps for what `reserve` returns.
public struct ProbePacer: Sendable {
    public let perSecond: Int
    public let burst: Int
    private var tokens: Double
    private var last: ContinuousClock.Instant?

    public init(perSecond: Int, burst: Int) {
        self.perSecond = max(1, perSecond)
        self.burst = max(1, burst)
        tokens = Double(self.burst)
    }

    /// Takes one probe's token at `now`; returns how long to wait before sending it.
    public mutating func reserve(at now: ContinuousClock.Instant) -> Duration {
        if let last {
            let elapsed = max(0, (now - last) / .seconds(1))
            tokens = min(Double(burst), tokens + elapsed * Double(perSecond))
        }
        last = now
        tokens -= 1
        guard tokens < 0 else { return .zero }
        return .seconds(-tokens / Double(perSecond))
    }
}
