import Model
import Reconciler
import Shell
import ShellTesting
import Testing

/// The production handlers under the embedded runtime, one scenario each.
@Suite struct EmbeddedScenarioTests {
    static let links = [FakeKernel.Link(index: 2, name: "Ethernet0"), FakeKernel.Link(index: 3, name: "Vlan1000")]

    static func ip(_ i: Int) -> IPAddress { IPAddress(ipv4: 0x0A00_0000 | UInt32(i)) }
    static func mac(_ i: Int) -> MACAddress { MACAddress(rawValue: 0x0200_0000_0000 | UInt64(i)) }

    static func kernel(_ count: Int) -> FakeKernel {
        let k = FakeKernel(links: links)
        for i in 0..<count { k.set(ifindex: i % 2 == 0 ? 2 : 3, ip: ip(i), mac: mac(i)) }
        return k
    }

    @Test func coldStartWritesTheKernelTable() {
        let k = Self.kernel(50)
        let redis = FakeRedisServer()
        let rt = EmbeddedRuntime(seed: 1, config: ReconcilerConfig(batchSize: 8), kernel: k, redis: redis)
        rt.run(for: 2_000_000_000)
        #expect(rt.state.phase == .steady, "\(rt.logs)")
        #expect(redis.snapshot == StoreSnapshot(valid: k.desired()))
        #expect(rt.state.actual == redis.snapshot)
        #expect(!rt.sent.isEmpty && rt.sent.allSatisfy(\.journaled))
    }

    @Test func aBurstThatOverrunsTheBufferIsRepairedByADump() {
        let k = Self.kernel(10)
        let redis = FakeRedisServer()
        let rt = EmbeddedRuntime(seed: 2, config: ReconcilerConfig(batchSize: 16), kernel: k, redis: redis)
        rt.run(for: 1_000_000_000)
        for i in 10..<400 { k.set(ifindex: 2, ip: Self.ip(i), mac: Self.mac(i)) }  // 64 KiB holds ~78
        rt.run(for: 5_000_000_000)
        #expect(rt.state.counters.overruns > 0)
        #expect(redis.snapshot == StoreSnapshot(valid: k.desired()))
    }

    /// Found by `reconnectBacksOff`: Redis restarted, losing APPL_DB, while the daemon had nothing
    /// to write; nothing noticed, and NEIGH_TABLE stayed empty. The idle connection closing is
    /// now noticed and the table read again and rewritten.
    @Test func redisRestartWhileIdleIsRepaired() {
        let k = Self.kernel(20)
        let redis = FakeRedisServer()
        let rt = EmbeddedRuntime(seed: 3, config: ReconcilerConfig(batchSize: 8), kernel: k, redis: redis)
        rt.run(for: 1_000_000_000)
        #expect(redis.snapshot == StoreSnapshot(valid: k.desired()))
        redis.stop(losingData: true)
        rt.run(for: 2_000_000_000)
        redis.start()
        rt.run(for: 10_000_000_000)
        #expect(redis.snapshot == StoreSnapshot(valid: k.desired()), "\(rt.logs)")
        #expect(rt.state.actual == redis.snapshot)
    }

    /// Dual-ToR (spec §12) through the production handlers: a FAILED IPv6 neighbor's
    /// NEIGH_FAILED_TABLE row reaches Redis before its NEIGH_TABLE SET, and its removal before the
    /// SET of its resolved MAC.
    @Test func failedTableRowGoesBeforeTheNeighTableOpOnTheWire() {
        let k = FakeKernel(links: Self.links)
        let ip = IPAddress("fc02:1000::5")!
        k.set(ifindex: 3, ip: ip, mac: Self.mac(1), state: .failed)
        let settings = FakeSettings()
        settings.currentPolicy = Policy(dualToR: true)
        settings.startupSettings = StartupSettings(
            config: StartupConfig(warmStart: false, policy: settings.currentPolicy)
        )
        let redis = FakeRedisServer()
        let rt = EmbeddedRuntime(
            seed: 4,
            config: ReconcilerConfig(batchSize: 8),
            kernel: k,
            redis: redis,
            settings: settings
        )
        rt.run(for: 1_000_000_000)
        #expect(redis.failedRows == ["Vlan1000:fc02:1000::5"], "\(rt.logs)")
        k.set(ifindex: 3, ip: ip, mac: Self.mac(2), state: .reachable)
        rt.run(for: 1_000_000_000)
        #expect(redis.failedRows.isEmpty)
        #expect(
            redis.operations == [
                "NEIGH_FAILED_TABLE S Vlan1000:fc02:1000::5", "NEIGH_TABLE S Vlan1000:fc02:1000::5",
                "NEIGH_FAILED_TABLE D Vlan1000:fc02:1000::5", "NEIGH_TABLE S Vlan1000:fc02:1000::5",
            ]
        )
        #expect(redis.snapshot == StoreSnapshot(valid: k.desired(policy: settings.currentPolicy)))
    }

    @Test func sameSeedSameTrace() {
        func digest() -> UInt64 {
            let rt = EmbeddedRuntime(
                seed: 7,
                config: ReconcilerConfig(batchSize: 4),
                kernel: Self.kernel(30),
                redis: FakeRedisServer()
            )
            rt.run(for: 1_000_000_000)
            return rt.traceDigest
        }
        #expect(digest() == digest())
    }
}
