import Model
import Testing

@testable import Reconciler

/// Anti-entropy's cheap detection: a keyspace notification the daemon's own writes do not explain
/// asks for a verifying read well before the periodic one (docs/state-machine.md, "Drift").
@Suite struct KeyspaceDriftTests {
    static let config = ReconcilerConfig(
        batchSize: 4,
        batchDelayMilliseconds: 5,
        verifyIntervalMilliseconds: 3_600_000,
        watchesStoreKeys: true
    )
    static let keys = DriftTests.keys
    static func mac(_ i: Int) -> MACAddress { DriftTests.mac(i) }

    /// A cold start in steady state with three neighbors written and acknowledged long ago.
    static func inSync() -> Simulator {
        let sim = DriftTests.inSync(config: config)
        #expect(!sim.armed.contains(.forgetAcknowledged), "the acknowledged keys are still remembered")
        return sim
    }

    @Test func aTouchedKeyThatDriftedIsRepairedWithoutThePeriodicRead() {
        var sim = Self.inSync()
        sim.store.entries[Self.keys[0]] = .valid(NeighborEntry(mac: Self.mac(0x99), family: .ipv4))
        sim.store.entries.removeValue(forKey: Self.keys[1])
        sim.send(.storeKeysTouched([Self.keys[0].description, Self.keys[1].description], overflow: false))
        #expect(sim.verifyWanted != nil, "no verifying read asked for")
        sim.quiesce()
        #expect(sim.storeIsExpected, "\(sim.store)")
        #expect(sim.state.counters.keyspaceVerifications == 1)
        #expect(sim.state.counters.driftRepaired.changed == 1 && sim.state.counters.driftRepaired.missing == 1)
        #expect(!sim.fired.contains { $0.timer == .verify }, "the periodic read did it")
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }

    /// orchagent consuming the daemon's own batch touches its keys once, after the acknowledgement;
    /// a touch after that is someone else's.
    @Test func ourOwnAcknowledgedKeyCostsNoRead() {
        var sim = Self.inSync()
        let k = NeighborKey("Ethernet0:10.0.0.4")!
        sim.kernelSet(k, KernelNeighbor(linkLayerAddress: .mac(Self.mac(4)), state: .reachable))
        sim.fire(.flush)
        sim.send(.storeKeysTouched([k.description], overflow: false))  // in flight
        #expect(sim.verifyWanted == nil)
        sim.acknowledge()
        sim.send(.storeKeysTouched([k.description, Self.keys[0].description], overflow: false))
        #expect(sim.verifyWanted != nil, "Ethernet0:10.0.0.1 was acknowledged long ago: someone else's")
        sim.quiesce()
        sim.kernelSet(k, KernelNeighbor(linkLayerAddress: .mac(Self.mac(5)), state: .reachable))
        sim.fire(.flush)
        sim.acknowledge()
        sim.send(.storeKeysTouched([k.description], overflow: false))  // consumed
        #expect(sim.verifyWanted == nil)
        sim.send(.storeKeysTouched([k.description], overflow: false))  // touched again: someone else
        #expect(sim.verifyWanted != nil)
        #expect(sim.state.counters.keyspaceVerifications == 2)
    }

    /// orchagent not consuming (stopped, slow): the excuse lasts two generations, not for ever.
    @Test func anUnconsumedKeyIsExcusedForAWhileOnly() {
        var sim = Self.inSync()
        let k = NeighborKey("Ethernet0:10.0.0.4")!
        sim.kernelSet(k, KernelNeighbor(linkLayerAddress: .mac(Self.mac(4)), state: .reachable))
        sim.fire(.flush)
        sim.acknowledge()
        sim.fire(.forgetAcknowledged)
        sim.fire(.forgetAcknowledged)
        #expect(!sim.armed.contains(.forgetAcknowledged), "the timer runs only while keys are remembered")
        sim.send(.storeKeysTouched([k.description], overflow: false))
        #expect(sim.verifyWanted != nil)
    }

    @Test func anOverflowReadsTheWholeTable() {
        var sim = Self.inSync()
        sim.store.malformedKeys.insert("bogus")
        sim.send(.storeKeysTouched([], overflow: true))
        #expect(sim.verifyWanted != nil)
        sim.quiesce()
        #expect(sim.store.malformedKeys.isEmpty)
        #expect(sim.storeIsExpected)
    }

    /// A key that is not a neighbor key (malformed) is someone else's unless the daemon deletes it.
    @Test func aMalformedKeyIsVerified() {
        var sim = Self.inSync()
        sim.store.malformedKeys.insert("not-a-key")
        sim.send(.storeKeysTouched(["not-a-key"], overflow: false))
        #expect(sim.verifyWanted != nil)
        sim.quiesce()
        #expect(sim.store.malformedKeys.isEmpty)
    }

    /// Nothing outside steady state: a warm restart's reconcile writes nothing, so verifies nothing.
    @Test func ignoredBeforeSteadyState() {
        var sim = Simulator(config: Self.config)
        sim.warmStart = true
        sim.kernel[Self.keys[0]] = KernelNeighbor(linkLayerAddress: .mac(Self.mac(1)), state: .reachable)
        sim.boot()
        sim.completeStoreRead()
        sim.restoreFlagCheck()
        sim.dumpChunk(100)
        #expect(sim.state.phase == .awaitingReconcileTimer)
        sim.send(.storeKeysTouched(["Ethernet0:10.0.0.9"], overflow: true))
        #expect(sim.verifyWanted == nil)
        #expect(sim.state.counters.keyspaceVerifications == 0)
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }

    /// A touch while a read runs may come after the read passed the key: one more read follows,
    /// after the hold-off.
    @Test func aTouchDuringARunningReadGetsAnotherRead() {
        var sim = Self.inSync()
        sim.send(.storeKeysTouched([Self.keys[0].description], overflow: false))
        #expect(sim.verifyWanted != nil)
        sim.store.entries.removeValue(forKey: Self.keys[2])
        sim.send(.storeKeysTouched([Self.keys[2].description], overflow: false))
        sim.completeVerifyRead(early: true)  // it had passed the key
        #expect(sim.verifyWanted == nil, "a second read at once, with no hold-off")
        sim.fire(.keyspaceHoldOff)
        #expect(sim.verifyWanted != nil, "no second read")
        sim.quiesce()
        #expect(sim.storeIsExpected)
        #expect(sim.state.counters.keyspaceVerifications == 2)
    }

    /// A key acknowledged twice before orchagent consumed it is consumed twice: two excuses.
    @Test func aKeyAcknowledgedTwiceIsExcusedTwice() {
        var sim = Self.inSync()
        let k = NeighborKey("Ethernet0:10.0.0.4")!
        for i in 4...5 {
            sim.kernelSet(k, KernelNeighbor(linkLayerAddress: .mac(Self.mac(i)), state: .reachable))
            sim.fire(.flush)
            sim.acknowledge()
        }
        sim.send(.storeKeysTouched([k.description], overflow: false))
        sim.send(.storeKeysTouched([k.description], overflow: false))
        #expect(sim.verifyWanted == nil, "the second pop looked foreign")
        #expect(sim.state.counters.keyspaceVerifications == 0)
    }

    /// Another writer under churn: a foreign touch in every report asks at most one read per
    /// hold-off, and one read covers the touches gathered meanwhile.
    @Test func foreignTouchesAreReadOncePerHoldOff() {
        var sim = Self.inSync()
        for i in 0..<60 {
            sim.store.entries[Self.keys[0]] = .valid(NeighborEntry(mac: Self.mac(0x40 + i), family: .ipv4))
            sim.send(.storeKeysTouched([Self.keys[0].description], overflow: false))
            if sim.verifyWanted != nil { sim.completeVerifyRead() }
            while sim.state.verifyOutstanding == nil, !sim.inFlight.isEmpty { sim.acknowledge() }
        }
        #expect(sim.state.counters.keyspaceVerifications == 1, "reads back to back")
        sim.quiesce()
        #expect(sim.state.counters.keyspaceVerifications == 2, "the touches after the first read were not read")
        #expect(sim.storeIsExpected)
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }

    /// A touch pending when the store is lost: the store's next read covers it, so no keyspace read
    /// is left to follow a later read.
    @Test func aLostStoreForgetsThePendingTouch() {
        var sim = Self.inSync()
        sim.send(.storeKeysTouched([Self.keys[0].description], overflow: false))
        sim.send(.storeKeysTouched([Self.keys[1].description], overflow: false))  // pending
        #expect(sim.state.keyspaceReadPending)
        sim.storeGoesDown(wipe: false)
        sim.quiesce()
        #expect(!sim.state.keyspaceReadPending)
        sim.fire(.verify)
        sim.quiesce()
        #expect(sim.state.counters.keyspaceVerifications == 1, "a read for a touch the reload covered")
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }
}
