import ChildTest
import Foundation
import Model
import PropertyBased
import RunTrace
import Testing

@testable import Reconciler

/// One seed is one run in every process: the seed a failing property prints replays it. The
/// test runs this test binary again, in separate processes, and compares their trace hashes.
@Suite struct ScenarioTraceTests {
    /// Set in a child process: the seed whose trace hash `printTraceHash` prints.
    static let seedVariable = "NEIGHSYNCD_TRACE_SEED"
    static let seed = "mm0OceOMuFUNPU3t4svq9gWqgRbu93el6dSgfxK72hs="

    /// The trace of what one seed generates: 50 scenarios as the properties generate them (with
    /// crashes), then a plan over views large enough to be compared on several cores.
    static func trace(seed: String) -> TraceHash? {
        guard var rng = Xoshiro(seed: seed) else { return nil }
        var trace = TraceHash()
        for _ in 0..<50 {
            let s = Scenario(PropertyTests.input.run(using: &rng))
            var sim = s.makeSimulator()
            sim.trace = trace
            sim.boot()
            for a in s.actions { sim.perform(a) }
            sim.quiesce()
            trace = sim.trace ?? trace
        }
        for c in largePlan().changes { trace.add(String(describing: c)) }
        return trace
    }

    /// 100,000 desired entries against 100,000 stored ones (the parallel diff starts at 200,000):
    /// sets, dels and malformed keys.
    static func largePlan() -> Plan {
        let names = (0..<16).map { InterfaceName("Ethernet\($0 * 4)")! }
        func key(_ i: Int) -> NeighborKey {
            NeighborKey(interface: names[i % 16], ip: IPAddress(ipv4: 0x0A00_0000 | UInt32(i)))
        }
        func entry(_ i: Int) -> NeighborEntry { NeighborEntry(mac: MACAddress(rawValue: UInt64(i)), family: .ipv4) }
        var desired: [NeighborKey: NeighborEntry] = [:]
        var actual = StoreSnapshot()
        for i in 0..<100_000 {
            desired[key(i)] = entry(i)
            actual.entries[key(i + 1_000)] = .valid(entry(i % 7 == 0 ? i : i + 1_000))
        }
        for i in 0..<20 { actual.malformedKeys.insert("garbage\(i)") }
        return diff(desired: desired, actual: actual)
    }

    /// The child's side: prints `trace <hash> <lines>` for the seed in `NEIGHSYNCD_TRACE_SEED`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[seedVariable] != nil))
    func printTraceHash() throws {
        let seed = try #require(ProcessInfo.processInfo.environment[Self.seedVariable])
        let trace = try #require(Self.trace(seed: seed), "\(Self.seedVariable)=\(seed) is not a seed")
        print("trace \(String(trace.value, radix: 16)) \(trace.lines)")
    }

    /// Two processes with SWIFT_DETERMINISTIC_HASHING=1 give the same trace; so does a third
    /// with hashing seeded at random as in production, since no order comes from a hash table.
    @Test func oneSeedGivesOneTraceInSeparateProcesses() throws {
        var traces: [String] = []
        for deterministicHashing in [true, true, false] {
            traces.append(try Self.traceInChildProcess(deterministicHashing: deterministicHashing))
        }
        #expect(traces[0] == traces[1], "two processes with deterministic hashing: \(traces)")
        #expect(traces[0] == traces[2], "with hashing seeded per process: \(traces)")
        let here = try #require(Self.trace(seed: Self.seed))
        #expect(traces[0] == "trace \(String(here.value, radix: 16)) \(here.lines)", "this process: \(traces)")
    }

    /// Runs this test binary again for `printTraceHash` alone and returns its `trace` line.
    static func traceInChildProcess(deterministicHashing: Bool) throws -> String {
        try lineFromTestInChildProcess(
            "printTraceHash",
            environment: [seedVariable: seed],
            deterministicHashing: deterministicHashing,
            prefix: "trace "
        )
    }
}
