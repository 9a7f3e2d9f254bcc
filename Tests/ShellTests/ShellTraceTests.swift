import ChildTest
import Foundation
import RunTrace
import ShellTesting
import Testing

/// A seed alone replays a run of the shell's handlers: the same trace in another process, with
/// hashing seeded at random as in production too, since no order comes from a hash table.
@Suite struct ShellTraceTests {
    static let seedVariable = "NEIGHSYNCD_SHELL_TRACE_SEED"
    static let seed: UInt64 = 20_261_202

    /// A scenario with every kind of fault, made from the seed.
    static func digest(seed: UInt64) -> (value: UInt64, events: Int) {
        var rng = SplitMix64(seed: seed)
        let values = (0..<32).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
        let outcome = ShellScenario(values).run()
        var hash = TraceHash()
        for run in outcome.runs { run.addTrace(to: &hash) }
        return (hash.value, hash.lines)
    }

    /// The child's side: prints `trace <hash> <events>` for the seed in the variable.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[seedVariable] != nil))
    func printShellTraceHash() throws {
        let text = try #require(ProcessInfo.processInfo.environment[Self.seedVariable])
        let seed = try #require(UInt64(text), "\(Self.seedVariable)=\(text) is not a seed")
        let d = Self.digest(seed: seed)
        print("trace \(String(d.value, radix: 16)) \(d.events)")
    }

    @Test func oneSeedGivesOneShellTraceInSeparateProcesses() throws {
        var traces: [String] = []
        for deterministicHashing in [true, true, false] {
            traces.append(try Self.traceInChildProcess(deterministicHashing: deterministicHashing))
        }
        let here = Self.digest(seed: Self.seed)
        #expect(here.events > 100, "the scenario is too small to say much: \(here.events) events")
        #expect(traces[0] == traces[1], "two processes with deterministic hashing: \(traces)")
        #expect(traces[0] == traces[2], "with hashing seeded per process: \(traces)")
        #expect(traces[0] == "trace \(String(here.value, radix: 16)) \(here.events)", "this process: \(traces)")
    }

    /// Runs this test binary again for `printShellTraceHash` alone and returns its `trace` line.
    static func traceInChildProcess(deterministicHashing: Bool) throws -> String {
        try lineFromTestInChildProcess(
            "printShellTraceHash",
            environment: [seedVariable: String(seed)],
            deterministicHashing: deterministicHashing,
            prefix: "trace "
        )
    }
}
