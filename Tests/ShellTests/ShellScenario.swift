import Model
import Reconciler
import Shell
import ShellTesting

/// Turns generated numbers into a kernel and a sequence of faults for the shell under the embedded
/// runtime. Plain numbers keep shrinking effective: dropping a number drops one action.
struct ShellScenario: CustomStringConvertible {
    enum Action: CustomStringConvertible {
        case set(Int, mac: Int)
        case delete(Int)
        /// Many changes at once, more than the 64 KiB receive queue holds.
        case burst(from: Int, count: Int)
        case wait(milliseconds: Int)
        /// The next transactions are answered OOM.
        case refuse(calls: Int)
        /// The connection resets after this many more commands.
        case reset(afterCommands: Int)
        /// Redis stops (APPL_DB lost or kept), stays down, and comes back.
        case restartRedis(losingData: Bool, downMilliseconds: Int)
        /// kill -9 and start again from what the journal committed.
        case crash
        /// SIGTERM, then a start again.
        case shutdown

        init(_ v: UInt32, allowing kinds: Set<Kind>) {
            let a = Int(v >> 5)
            let kind = Kind.allCases[Int(v % UInt32(Kind.allCases.count))]
            switch kinds.contains(kind) ? kind : .set {
            case .set: self = .set(a % 64, mac: (a >> 6) % 3)
            case .delete: self = .delete(a % 64)
            case .burst: self = .burst(from: a % 64, count: 60 + a % 200)
            case .wait: self = .wait(milliseconds: 1 + a % 40)
            case .refuse: self = .refuse(calls: 1 + a % 4)
            case .reset: self = .reset(afterCommands: a % 6)
            case .restartRedis: self = .restartRedis(losingData: a % 2 == 0, downMilliseconds: 10 + (a >> 1) % 3000)
            case .crash: self = .crash
            case .shutdown: self = .shutdown
            }
        }

        var description: String {
            switch self {
            case .set(let i, let m): "set(\(i), mac \(m))"
            case .delete(let i): "delete(\(i))"
            case .burst(let f, let n): "burst(\(f), \(n))"
            case .wait(let ms): "wait(\(ms) ms)"
            case .refuse(let n): "refuse(\(n))"
            case .reset(let k): "reset(after \(k))"
            case .restartRedis(let l, let ms): "restartRedis(\(l ? "losing data" : "keeping data"), \(ms) ms)"
            case .crash: "crash"
            case .shutdown: "shutdown"
            }
        }
    }

    enum Kind: CaseIterable {
        case set, delete, burst, wait, refuse, reset, restartRedis, crash, shutdown
    }

    static let everything = Set(Kind.allCases)
    static let links = [FakeKernel.Link(index: 2, name: "Ethernet0"), FakeKernel.Link(index: 3, name: "Vlan1000")]

    let seed: UInt64
    let initial: Int
    let actions: [Action]

    init(_ values: [UInt32], allowing kinds: Set<Kind> = everything) {
        seed = UInt64(values.first ?? 0)
        initial = Int((values.first ?? 0) % 40)
        actions = values.dropFirst().map { Action($0, allowing: kinds) }
    }

    var description: String { "seed \(seed), \(initial) neighbors, actions \(actions)" }

    static func ip(_ i: Int) -> IPAddress { IPAddress(ipv4: 0x0A00_0000 | UInt32(i)) }
    static func mac(_ i: Int, _ m: Int) -> MACAddress { MACAddress(rawValue: 0x0200_0000_0000 | UInt64(i << 8 | m)) }
    static func link(_ i: Int) -> Int32 { i % 2 == 0 ? 2 : 3 }

    /// What a run left behind, for the properties to judge.
    struct Outcome {
        var kernel: FakeKernel
        var redis: FakeRedisServer
        var runtime: EmbeddedRuntime
        /// Every daemon started, in order (restarts after crashes and shutdowns).
        var runs: [EmbeddedRuntime]
        var violations: [String] = []
        /// Exit codes of the shutdowns, and how long each took.
        var shutdowns: [(code: Int32?, nanoseconds: UInt64)] = []
        /// Each time Redis was down: how long, and how many reads of APPL_DB started meanwhile.
        var outages: [(milliseconds: Int, reads: Int)] = []
        var expected: StoreSnapshot { StoreSnapshot(valid: kernel.desired()) }
    }

    func run(config: ReconcilerConfig = ReconcilerConfig(batchSize: 8, batchDelayMilliseconds: 5)) -> Outcome {
        let kernel = FakeKernel(links: Self.links)
        let redis = FakeRedisServer()
        for i in 0..<initial { kernel.set(ifindex: Self.link(i), ip: Self.ip(i), mac: Self.mac(i, 0)) }
        var rt = EmbeddedRuntime(seed: seed, config: config, kernel: kernel, redis: redis)
        var out = Outcome(kernel: kernel, redis: redis, runtime: rt, runs: [rt])
        var incarnation: UInt64 = 0
        func restart(from image: JournalImage) {
            incarnation += 1
            let before = rt.sent.map(\.id).max() ?? 0
            rt = EmbeddedRuntime(
                seed: seed &+ incarnation,
                config: config,
                kernel: kernel,
                redis: redis,
                image: image,
                startingAt: rt.now
            )
            if rt.state.lastBatchID < before {
                out.violations.append("restart: last batch id \(rt.state.lastBatchID) < \(before) already sent")
            }
            out.runs.append(rt)
        }
        rt.run(for: 1_000_000)
        for action in actions {
            switch action {
            case .set(let i, let m): kernel.set(ifindex: Self.link(i), ip: Self.ip(i), mac: Self.mac(i, m))
            case .delete(let i): kernel.delete(ifindex: Self.link(i), ip: Self.ip(i))
            case .burst(let from, let n):
                for i in from..<(from + n) { kernel.set(ifindex: Self.link(i), ip: Self.ip(i), mac: Self.mac(i, 1)) }
            case .wait(let ms): rt.run(for: UInt64(ms) * 1_000_000)
            case .refuse(let n): redis.refuseNextCalls = n
            case .reset(let k): redis.resetAfterCommands = k
            case .restartRedis(let losing, let ms):
                redis.stop(losingData: losing)
                let reads = rt.reader.readsStarted
                rt.run(for: UInt64(ms) * 1_000_000)
                out.outages.append((ms, rt.reader.readsStarted - reads))
                redis.start()
            case .crash:
                rt.journal.crash()
                restart(from: rt.journal.image)
            case .shutdown:
                let t0 = rt.now
                rt.requestShutdown()
                rt.run(for: 30_000_000_000)
                out.shutdowns.append((rt.exitCode, rt.now - t0))
                rt.journal.finish()
                restart(from: rt.journal.image)
            }
            rt.run(for: 1_000_000)
        }
        // The faults end; the daemon has time to converge.
        redis.refuseNextCalls = 0
        redis.resetAfterCommands = nil
        rt.run(for: 60_000_000_000)
        out.runtime = rt
        for r in out.runs {
            for s in r.sent where !s.journaled { out.violations.append("batch \(s.id) sent before it was journaled") }
        }
        let ids = out.runs.flatMap { $0.sent.map(\.id) }
        var seen: [UInt64: Int] = [:]
        for id in ids { seen[id, default: 0] += 1 }
        // A batch is sent again after a refusal only within one run.
        for r in out.runs.dropFirst().indices {
            let earlier = Set(out.runs[..<r].flatMap { $0.sent.map(\.id) })
            for s in out.runs[r].sent where earlier.contains(s.id) {
                out.violations.append("batch id \(s.id) reused after a restart")
            }
        }
        return out
    }
}
