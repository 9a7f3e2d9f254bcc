import Testing

@testable import KernelObserver

/// When a dump counts as stalled: the time is given, so no test waits for it.
struct DumpWatchTests {
    static let ms: UInt64 = 1_000_000

    @Test func progressRestartsTheWatch() {
        var w = DumpWatch(progress: 1, now: 0)
        #expect(w.check(progress: 2, now: 2_400 * Self.ms, drained: true) == .none)
        #expect(w.check(progress: 2, now: 2_600 * Self.ms, drained: true) == .none)
        #expect(w.check(progress: 2, now: 2_700 * Self.ms, drained: true) == .nudge(stalledNanoseconds: 300 * Self.ms))
    }

    @Test func nudgesOnlyADrainedSocketAndNotTooOften() {
        var w = DumpWatch(progress: 1, now: 0)
        #expect(w.check(progress: 1, now: 500 * Self.ms, drained: false) == .none)
        #expect(w.check(progress: 1, now: 600 * Self.ms, drained: true) == .nudge(stalledNanoseconds: 600 * Self.ms))
        #expect(w.check(progress: 1, now: 800 * Self.ms, drained: true) == .none)
        #expect(w.check(progress: 1, now: 900 * Self.ms, drained: true) == .nudge(stalledNanoseconds: 900 * Self.ms))
    }

    /// Datagrams still unread may be the dump's, or let it go on: a slow reader is no stall.
    @Test func abandonsAfterTheLongerWaitOnceDrained() {
        var w = DumpWatch(progress: 7, now: 100)
        #expect(
            w.check(progress: 7, now: 100 + 2_499 * Self.ms, drained: true)
                == .nudge(stalledNanoseconds: 2_499 * Self.ms)
        )
        #expect(w.check(progress: 7, now: 100 + 9_000 * Self.ms, drained: false) == .none)
        #expect(
            w.check(progress: 7, now: 100 + 9_001 * Self.ms, drained: true)
                == .abandon(stalledNanoseconds: 9_001 * Self.ms)
        )
    }

    @Test func aClockGoingBackIsNoStall() {
        var w = DumpWatch(progress: 1, now: 5_000 * Self.ms)
        #expect(w.check(progress: 1, now: 0, drained: true) == .none)
    }
}
