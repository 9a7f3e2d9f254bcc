import Model
import Testing

@testable import Reconciler

/// Spec §12 (upstream sonic-swss #4849): `NEIGH_FAILED_TABLE` on a dual-ToR, one test per rule,
/// driven through the simulator (whose `failedStore` is the table as nbrmgrd pops it).
@Suite struct FailedTableTests {
    static let v6 = NeighborKey("Vlan1000:fc02:1000::5")!
    static let v4 = NeighborKey("Vlan1000:192.168.0.5")!
    static let dualToR = Policy(dualToR: true)
    static func neighbor(_ state: NUDState, mac: String = "00:01:02:03:04:05") -> KernelNeighbor {
        KernelNeighbor(linkLayerAddress: state == .failed ? .absent : .mac(MACAddress(mac)!), state: state)
    }

    /// A cold start in steady state, the store read, on `policy`.
    static func steady(_ policy: Policy = dualToR, batchSize: Int = 4) -> Simulator {
        var sim = Simulator(config: ReconcilerConfig(batchSize: batchSize, batchDelayMilliseconds: 5))
        sim.policy = policy
        sim.boot()
        sim.quiesce()
        #expect(sim.state.phase == .steady)
        return sim
    }

    @Test func setOnFailed() {
        var sim = Self.steady()
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        #expect(sim.failedLog == [.set(Self.v6)])
        #expect(sim.failedStore == [Self.v6])
        // Every FAILED message writes again: each is one more request to nbrmgrd.
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        #expect(sim.failedLog == [.set(Self.v6), .set(Self.v6)])
        // The NEIGH_TABLE decision is unchanged: the zero-MAC SET of rule 10.
        sim.quiesce()
        #expect(sim.store.entries[Self.v6] == .valid(NeighborEntry(mac: .zero, family: .ipv6)))
    }

    @Test func notOnIncompleteNorNone() {
        var sim = Self.steady()
        sim.kernelSet(Self.v6, Self.neighbor(.incomplete))
        sim.kernelSet(Self.v6, KernelNeighbor(linkLayerAddress: .absent, state: .none))
        #expect(sim.failedLog.isEmpty)
        #expect(sim.failedStore.isEmpty)
    }

    @Test func ipv4Untouched() {
        var sim = Self.steady()
        sim.kernelSet(Self.v4, Self.neighbor(.failed))
        sim.kernelDelete(Self.v4)
        #expect(sim.failedLog.isEmpty)
    }

    @Test func notWhenNotDualToR() {
        var sim = Self.steady(Policy())
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        #expect(sim.failedLog.isEmpty)
        // Nor on EVPN alone.
        var evpn = Self.steady(Policy(evpn: true))
        evpn.kernelSet(Self.v6, Self.neighbor(.failed))
        #expect(evpn.failedLog.isEmpty)
    }

    @Test func removedOnDelete() {
        var sim = Self.steady()
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        sim.send(.kernelMessage(NeighborMessage(.deleteNeighbor, Self.v6, Self.neighbor(.failed))))
        #expect(sim.failedLog == [.set(Self.v6), .del(Self.v6)])
        #expect(sim.failedStore.isEmpty)
    }

    @Test(arguments: [NUDState.permanent, .noarp, .reachable, .probe, .stale, .delay])
    func removedOnValidStateOnlyIfSet(_ state: NUDState) {
        var sim = Self.steady()
        // No row: a valid state or a DEL writes nothing (upstream finds no consumed hash).
        sim.kernelSet(Self.v6, Self.neighbor(state))
        sim.send(.kernelMessage(NeighborMessage(.deleteNeighbor, Self.v6, Self.neighbor(state))))
        #expect(sim.failedLog.isEmpty)
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        sim.kernelSet(Self.v6, Self.neighbor(.incomplete))  // nbrmgrd's move: the row stays
        #expect(sim.failedStore == [Self.v6])
        sim.kernelSet(Self.v6, Self.neighbor(state))
        sim.kernelSet(Self.v6, Self.neighbor(state))
        #expect(sim.failedLog == [.set(Self.v6), .del(Self.v6)])
    }

    /// On the wire the row goes before the NEIGH_TABLE op of the same message, here one that
    /// fills a batch at once (batch size 1), so both are effects of one step.
    @Test func writtenBeforeTheNeighTableOpOfTheSameMessage() {
        var sim = Self.steady(batchSize: 1)
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        #expect(sim.wire.map(\.kind) == ["F", "B"])
        #expect(sim.wire.allSatisfy { $0.keys == [Self.v6] })
        sim.quiesce()
        sim.kernelSet(Self.v6, Self.neighbor(.reachable))
        #expect(sim.wire.map(\.kind) == ["F", "B", "F", "B"])
        #expect(sim.failedLog == [.set(Self.v6), .del(Self.v6)])
    }

    /// Not part of warm restart: written while the reconcile timer holds NEIGH_TABLE back.
    @Test func notHeldByTheReconcileTimer() {
        var sim = Simulator(config: ReconcilerConfig(batchSize: 4))
        sim.warmStart = true
        sim.policy = Self.dualToR
        sim.kernel = [Self.v6: Self.neighbor(.incomplete)]
        sim.boot()
        sim.completeStoreRead()
        sim.restoreFlagCheck()
        sim.dumpChunk(100)
        #expect(sim.state.phase == .awaitingReconcileTimer)
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        #expect(sim.failedLog == [.set(Self.v6)])
        #expect(sim.writes.isEmpty)
        sim.quiesce()
        #expect(sim.warmStates.last == .reconciled)
    }

    /// A dump's entries count as messages; before APPL_DB is read the operations wait for it, and
    /// then go before the resync's NEIGH_TABLE batch.
    @Test func dumpEntriesBeforeTheFirstReadWaitForIt() {
        var sim = Simulator(config: ReconcilerConfig(batchSize: 4))
        sim.policy = Self.dualToR
        sim.kernel = [Self.v6: Self.neighbor(.failed)]
        sim.boot()
        sim.dumpChunk(100)
        #expect(sim.failedLog.isEmpty)
        sim.completeStoreRead()
        #expect(sim.failedLog == [.set(Self.v6)])
        #expect(sim.wire.map(\.kind) == ["F", "B"])
    }

    /// Rows an earlier instance left are adopted at the first read, and removed by the same rules.
    @Test func rowsOfAnEarlierInstanceAreRemovedByTheSameRules() {
        let other = NeighborKey("Vlan1000:fc02:1000::6")!
        var sim = Simulator(config: ReconcilerConfig(batchSize: 4))
        sim.policy = Self.dualToR
        sim.failedStore = [Self.v6, other]
        sim.kernel = [Self.v6: Self.neighbor(.reachable), other: Self.neighbor(.incomplete)]
        sim.boot()
        sim.quiesce()
        #expect(sim.failedLog == [.del(Self.v6)])
        #expect(sim.failedStore == [other])
    }

    /// A read that skipped the table (not a dual-ToR when it began) is neither an adoption nor a
    /// repair: the first read of the table adopts its rows, and only later ones repair.
    @Test func aReadWithoutTheTableNeitherAdoptsNorRepairs() {
        let other = NeighborKey("Vlan1000:fc02:1000::6")!
        var t = FailedTable()
        #expect(t.storeLoaded(present: nil).isEmpty)
        #expect(t.storeLoaded(present: [Self.v6]).isEmpty)
        #expect(t.rows == [Self.v6])
        #expect(t.storeLoaded(present: nil).isEmpty)
        #expect(t.storeLoaded(present: [other]) == [.del(other), .set(Self.v6)])
    }

    /// A neighbor deleted while no DELNEIGH was read (an overrun): the re-dump's sweep removes it.
    @Test func aRowWhoseNeighborIsGoneIsSweptByTheNextDump() {
        var sim = Self.steady()
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        sim.beginOverrun()
        sim.kernelDelete(Self.v6)
        sim.quiesce()
        #expect(sim.failedLog == [.set(Self.v6), .del(Self.v6)])
        #expect(sim.failedStore.isEmpty)
    }

    /// A re-dump (an overrun) finds the neighbor still FAILED: its row is written already, so
    /// nbrmgrd gets no second request; one that turned FAILED meanwhile is still set.
    @Test func aReDumpAsksNothingMoreForARowAlreadyWritten() {
        var sim = Self.steady()
        let other = NeighborKey("Vlan1000:fc02:1000::6")!
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        sim.kernelSet(other, Self.neighbor(.reachable))
        sim.quiesce()
        sim.beginOverrun()
        sim.kernelSet(other, Self.neighbor(.failed))
        sim.quiesce()
        #expect(sim.failedLog == [.set(Self.v6), .set(other)])
        #expect(sim.failedStore == [Self.v6, other])
    }

    /// Redis restarted empty while the daemon ran: the next read repairs the rows.
    @Test func aWipedTableIsRepairedAtTheNextRead() {
        var sim = Self.steady()
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        sim.storeGoesDown(wipe: true)
        sim.quiesce()
        #expect(sim.failedStore == [Self.v6])
    }

    /// While APPL_DB is down, what waits for it is one operation per key, whatever the churn; the
    /// row ends as the last message says.
    @Test func whatWaitsForTheStoreIsOnePerKey() {
        var sim = Self.steady()
        sim.storeGoesDown(wipe: false)
        for i in 0..<1000 { sim.kernelSet(Self.v6, Self.neighbor(i % 2 == 0 ? .failed : .reachable)) }
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        #expect(sim.state.failedTable.waiting == 1)
        #expect(sim.failedLog.isEmpty)
        sim.quiesce()
        #expect(sim.failedLog == [.set(Self.v6)])
        #expect(sim.failedStore == [Self.v6])
    }

    /// Rules 6 and 7 come first: fe80 only where link-local is enabled (a DEL always passes),
    /// ff02 never.
    @Test func linkLocalAndMulticastFiltersComeFirst() {
        let ll = NeighborKey("Ethernet0:fe80::1")!
        let mc = NeighborKey("Ethernet0:ff02::1")!
        var sim = Self.steady()
        sim.kernelSet(ll, Self.neighbor(.failed))
        sim.kernelSet(mc, Self.neighbor(.failed))
        #expect(sim.failedLog.isEmpty)
        var enabled = Self.steady(Policy(dualToR: true, linkLocalInterfaces: [InterfaceName("Ethernet0")!]))
        enabled.kernelSet(ll, Self.neighbor(.failed))
        enabled.send(.kernelMessage(NeighborMessage(.deleteNeighbor, ll, Self.neighbor(.failed))))
        #expect(enabled.failedLog == [.set(ll), .del(ll)])
    }

    /// Before the EVPN PROBE and NOARP filters: a PROBE on EVPN and a NOARP still remove the row.
    @Test func beforeTheEvpnProbeAndNoarpFilters() {
        var sim = Self.steady(Policy(dualToR: true, evpn: true))
        sim.kernelSet(Self.v6, Self.neighbor(.failed))
        sim.kernelSet(Self.v6, Self.neighbor(.probe))
        #expect(sim.failedLog == [.set(Self.v6), .del(Self.v6)])
        var noarp = Self.steady()
        noarp.kernelSet(Self.v6, Self.neighbor(.failed))
        noarp.kernelSet(Self.v6, Self.neighbor(.noarp))
        #expect(noarp.failedLog == [.set(Self.v6), .del(Self.v6)])
    }
}
