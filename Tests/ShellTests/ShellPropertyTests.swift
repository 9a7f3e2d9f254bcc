import Foundation
import Model
import PropertyBased
import PropertySeed
import Reconciler
import Shell
import ShellTesting
import Testing

/// Properties of the shell's production handlers under the embedded runtime, over generated
/// kernels and fault sequences. A failure prints the scenario and the seed that replays it:
/// `NEIGHSYNCD_PROPERTY_SEED=<seed> swift test --filter ShellPropertyTests/<property>`.
@Suite struct ShellPropertyTests {
    static let cases = ProcessInfo.processInfo.environment["NEIGHSYNCD_PROPERTY_CASES"].flatMap { Int($0) } ?? 1_000
    static func report(_ name: String = #function) { print("property \(name): \(cases) generated cases checked") }
    static let input = Gen.uint32(in: 0...UInt32.max).array(of: 1...24)

    static func converged(_ o: ShellScenario.Outcome, _ s: ShellScenario) {
        #expect(o.violations.isEmpty, "\(o.violations) in \(s)")
        #expect(o.runtime.exitCode == nil, "exited \(String(describing: o.runtime.exitCode)) in \(s)")
        #expect(o.runtime.state.phase == .steady, "phase \(o.runtime.state.phase) in \(s)")
        #expect(o.redis.snapshot == o.expected, "APPL_DB differs from the kernel in \(s)")
        #expect(o.runtime.state.actual == o.redis.snapshot, "the core's store view differs from APPL_DB in \(s)")
        #expect(o.redis.notificationShortfalls == 0, "a transaction published less than once per 128 keys in \(s)")
    }

    /// Every fault at once: the store ends equal to the kernel, and the core knows it exactly.
    @Test(replayingSeed) func convergesThroughEveryFault() async {
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            let s = ShellScenario(values)
            Self.converged(s.run(), s)
        }
        Self.report()
    }

    /// Replies are matched to their batches with up to three batches in flight, through error
    /// replies, aborted transactions and resets: a reply taken for the wrong batch leaves the store
    /// view unequal to APPL_DB. Each acknowledged batch was sent, and acknowledged once.
    @Test(replayingSeed) func repliesMatchTheirBatches() async {
        let kinds: Set<ShellScenario.Kind> = [.set, .delete, .burst, .wait, .refuse, .reset]
        await propertyCheck(count: Self.cases, input: Self.input, Gen.int(in: 1...3), Gen.int(in: 1...6)) {
            values,
            window,
            size in
            let s = ShellScenario(values, allowing: kinds)
            let o = s.run(config: ReconcilerConfig(batchSize: size, batchDelayMilliseconds: 2, batchesInFlight: window))
            Self.converged(o, s)
            var acknowledged: Set<UInt64> = []
            let sent = Set(o.runtime.sent.map(\.id))
            for (e, _) in o.runtime.trace {
                guard case .batchAcknowledged(let id) = e else { continue }
                #expect(sent.contains(id), "batch \(id) acknowledged, never sent, in \(s)")
                #expect(acknowledged.insert(id).inserted, "batch \(id) acknowledged twice in \(s)")
            }
        }
        Self.report()
    }

    /// kill -9 with journal records queued: no batch goes out before its `batchWritten` record is
    /// committed, so no id is reused after the crash and the journal knows every batch Redis may
    /// have applied; the restarted daemon converges.
    @Test(replayingSeed) func crashWithJournalRecordsQueued() async {
        let kinds: Set<ShellScenario.Kind> = [.set, .delete, .burst, .wait, .crash, .refuse, .reset]
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            let s = ShellScenario(values, allowing: kinds)
            let o = s.run()
            Self.converged(o, s)
            for (i, r) in o.runs.enumerated().dropLast() {
                let image = o.runs[i + 1].journal.image
                for b in r.sent {
                    #expect(b.id <= image.lastBatchID, "batch \(b.id) sent, unknown to the journal, in \(s)")
                }
            }
        }
        Self.report()
    }

    /// Redis down: the reads retry with backoff (a handful, not one per turn), and once Redis is
    /// back the store converges whether it kept NEIGH_TABLE or lost it.
    @Test(replayingSeed) func reconnectBacksOff() async {
        let kinds: Set<ShellScenario.Kind> = [.set, .burst, .wait, .restartRedis]
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            let s = ShellScenario(values, allowing: kinds)
            let o = s.run()
            Self.converged(o, s)
            for outage in o.outages {
                let allowed = Self.readsAllowed(during: outage.milliseconds)
                let what = "\(outage.reads) reads in \(outage.milliseconds) ms down (at most \(allowed))"
                #expect(outage.reads <= allowed, "\(what) in \(s)")
            }
        }
        Self.report()
    }

    /// The documented schedule (docs/operations.md), written out here rather than taken from
    /// `Backoff`, so that a change to `Backoff` shows: 100 ms, doubled after each failure, at most
    /// 5 s. Reads that fit in an outage, plus the one the outage interrupts.
    static func readsAllowed(during milliseconds: Int) -> Int {
        var reads = 1
        var waited = 0
        var wait = 100
        while waited + wait <= milliseconds {
            waited += wait
            reads += 1
            wait = min(wait * 2, 5000)
        }
        return reads + 1
    }

    /// Redis restarted, or the connection reset, with batches on the wire: nothing is acknowledged
    /// that Redis did not answer, and the store is read again and repaired.
    @Test(replayingSeed) func redisRestartMidPipeline() async {
        let kinds: Set<ShellScenario.Kind> = [.set, .delete, .burst, .reset, .restartRedis]
        await propertyCheck(count: Self.cases, input: Self.input, Gen.int(in: 1...3)) { values, window in
            let s = ShellScenario(values, allowing: kinds)
            Self.converged(
                s.run(config: ReconcilerConfig(batchSize: 4, batchDelayMilliseconds: 1, batchesInFlight: window)),
                s
            )
        }
        Self.report()
    }

    /// SIGTERM with batches in flight (or refused, or on a dead connection): the daemon exits 0
    /// within a bounded time, having waited for the replies it could get; the next start converges.
    @Test(replayingSeed) func shutdownWithBatchesInFlight() async {
        let kinds: Set<ShellScenario.Kind> = [.set, .burst, .refuse, .reset, .shutdown, .restartRedis]
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            let s = ShellScenario(values, allowing: kinds)
            let o = s.run()
            Self.converged(o, s)
            for d in o.shutdowns {
                #expect(d.code == 0, "shutdown exited \(String(describing: d.code)) in \(s)")
            }
        }
        Self.report()
    }
}
