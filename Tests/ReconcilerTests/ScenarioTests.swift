import Model
import Testing

@testable import Reconciler

/// Spec §7 scenarios that the core can express, driven through the simulator.
@Suite struct ScenarioTests {
    /// test_warm_reboot.py::test_swss_neighbor_syncup: 4 IPv4 + 4 IPv6 neighbors on Ethernet24/28.
    static let keys: [NeighborKey] =
        (0..<4).map { i in NeighborKey("Ethernet\(i < 2 ? 24 : 28):10.0.0.\(i + 1)")! }
        + (0..<4).map { i in NeighborKey("Ethernet\(i < 2 ? 24 : 28):2000::\(i + 1)")! }
    static func reachable(_ mac: String) -> KernelNeighbor {
        KernelNeighbor(linkLayerAddress: .mac(MACAddress(mac)!), state: .reachable)
    }
    static let macs = (0..<8).map { String(format: "00:00:00:00:00:%02x", $0 + 1) }

    /// A warm restart against `store` with the kernel as `kernel`; returns the finished world.
    /// `readAfterTimer`: the APPL_DB read (which runs alongside the dump) ends only after the
    /// reconcile timer has fired.
    static func warmRestart(
        kernel: [NeighborKey: KernelNeighbor],
        store: [NeighborKey: NeighborEntry],
        timer: Int = 5,
        readAfterTimer: Bool = false
    ) -> Simulator {
        var sim = Simulator(config: ReconcilerConfig(batchSize: 1000))
        sim.warmStart = true
        sim.kernel = kernel
        sim.store = StoreSnapshot(valid: store)
        sim.send(.started(StartupConfig(warmStart: true, reconcileTimerSeconds: timer)))
        if !readAfterTimer { sim.completeStoreRead() }
        sim.restoreFlagCheck()
        sim.dumpChunk(100)
        #expect(sim.state.phase == .awaitingReconcileTimer)
        #expect(sim.writes.isEmpty)
        sim.fire(.reconcile)
        if readAfterTimer {
            #expect(
                sim.writes.isEmpty && sim.state.phase == .awaitingReconcileTimer,
                "reconciled before APPL_DB was read"
            )
            #expect(sim.warmStates == [.initialized])
            sim.completeStoreRead()
        }
        sim.quiesce()
        #expect(sim.storeIsExpected)
        #expect(sim.warmStates == [.initialized, .restored, .reconciled])
        return sim
    }

    static func counts(_ sim: Simulator) -> (new: [String: Int], delete: [String: Int], sets: Int, dels: Int) {
        var new: [String: Int] = [:]
        var delete: [String: Int] = [:]
        for line in sim.logs {
            let fam = line.contains(":2000::") ? "IPv6" : "IPv4"
            if line.contains("cache-state:NEW") { new[fam, default: 0] += 1 }
            if line.contains("cache-state:STALE") || line.contains("cache-state:DELETE") {
                delete[fam, default: 0] += 1
            }
        }
        let changes = sim.writes.flatMap(\.batch.changes)
        return (new, delete, changes.filter(\.isSet).count, changes.count - changes.filter(\.isSet).count)
    }

    @Test(arguments: [false, true]) func warmSyncupSteps(readAfterTimer: Bool) {
        var kernel = Dictionary(uniqueKeysWithValues: zip(Self.keys, Self.macs.map(Self.reachable)))
        let store = kernel.reduce(into: [NeighborKey: NeighborEntry]()) {
            $0[$1.key] = desiredEntry(for: $1.key, $1.value, policy: Policy())
        }

        // 1. Nothing changed: no NEW/DELETE, no writes.
        var sim = Self.warmRestart(kernel: kernel, store: store, readAfterTimer: readAfterTimer)
        var c = Self.counts(sim)
        #expect(c.new.isEmpty && c.delete.isEmpty && c.sets == 0 && c.dels == 0)

        // 2. Even-indexed entries deleted from the kernel: 2 DELETE per family, 4 deletes.
        for (i, k) in Self.keys.enumerated() where i % 2 == 0 { kernel[k] = nil }
        sim = Self.warmRestart(
            kernel: kernel,
            store: sim.store.entries.compactMapValues(\.entry),
            readAfterTimer: readAfterTimer
        )
        c = Self.counts(sim)
        #expect(c.delete == ["IPv4": 2, "IPv6": 2] && c.new.isEmpty && c.dels == 4 && c.sets == 0)

        // 3. Re-added: 2 NEW per family, 4 sets.
        for (i, k) in Self.keys.enumerated() where i % 2 == 0 { kernel[k] = Self.reachable(Self.macs[i]) }
        sim = Self.warmRestart(
            kernel: kernel,
            store: sim.store.entries.compactMapValues(\.entry),
            readAfterTimer: readAfterTimer
        )
        c = Self.counts(sim)
        #expect(c.new == ["IPv4": 2, "IPv6": 2] && c.delete.isEmpty && c.sets == 4 && c.dels == 0)

        // 4. Timer 15; even-indexed MACs changed, odd-indexed deleted: 2 NEW + 2 DELETE per family.
        for (i, k) in Self.keys.enumerated() {
            kernel[k] = i % 2 == 0 ? Self.reachable("00:00:00:00:01:\(String(format: "%02x", i))") : nil
        }
        sim = Self.warmRestart(
            kernel: kernel,
            store: sim.store.entries.compactMapValues(\.entry),
            timer: 15,
            readAfterTimer: readAfterTimer
        )
        c = Self.counts(sim)
        #expect(c.new == ["IPv4": 2, "IPv6": 2] && c.delete == ["IPv4": 2, "IPv6": 2] && c.sets == 4 && c.dels == 4)
        #expect(sim.logs.contains("warm start; reconcile timer 15 s"))
    }

    /// warmrestartassist_ut: cached value0, two updates to value1, reconcile to value1 —
    /// and an entry updated away and back is not rewritten (it equals the store).
    @Test func entryUpdatedTwiceDuringWarmRestart() {
        let k = NeighborKey("Ethernet0:10.0.0.1")!
        var sim = Simulator(config: ReconcilerConfig(batchSize: 10))
        sim.store = StoreSnapshot(valid: [k: NeighborEntry(mac: MACAddress("00:00:00:00:00:01")!, family: .ipv4)])
        sim.warmStart = true
        sim.boot()
        sim.restoreFlagCheck()
        sim.kernelSet(k, Self.reachable("00:00:00:00:00:02"))
        sim.kernelSet(k, Self.reachable("00:00:00:00:00:02"))
        sim.dumpChunk(10)
        sim.fire(.reconcile)
        sim.quiesce()
        #expect(
            sim.writes.flatMap(\.batch.changes) == [
                .set(k, NeighborEntry(mac: MACAddress("00:00:00:00:00:02")!, family: .ipv4))
            ]
        )
    }

    @Test func restoreFlagMissingExitsWithOne() {
        var sim = Simulator()
        sim.warmStart = true
        sim.restoreFlag = false
        sim.boot()
        #expect(sim.state.phase == .awaitingRestoreFlag)
        sim.send(.restoreWaitTimedOut)
        #expect(sim.exitCode == 1)
    }

    /// test_neighbor.py: key carries no VRF; exactly `neigh` and `family`; removal deletes.
    @Test func neighborAddAndRemove() {
        var sim = Simulator(config: ReconcilerConfig(batchSize: 10))
        sim.boot()
        sim.quiesce()
        let k6 = NeighborKey("Ethernet8:2000::2")!
        let k4 = NeighborKey("Ethernet0:10.0.0.2")!
        sim.kernelSet(k6, KernelNeighbor(linkLayerAddress: .mac(MACAddress("00:01:02:03:04:05")!), state: .permanent))
        sim.kernelSet(k4, KernelNeighbor(linkLayerAddress: .mac(MACAddress("00:01:02:03:04:05")!), state: .permanent))
        sim.quiesce()
        #expect(sim.store.entries[k6]?.entry?.fields.map(\.0) == ["neigh", "family"])
        #expect(sim.store.entries[k6]?.entry?.fields.map(\.1) == ["00:01:02:03:04:05", "IPv6"])
        #expect(sim.store.entries[k4]?.entry?.family.description == "IPv4")
        sim.kernelDelete(k6)
        sim.kernelDelete(k4)
        sim.quiesce()
        #expect(sim.store.entries.isEmpty)
    }

    /// test_neighbor.py case 4 and test_mux.py: 169.254 goes when dual-ToR appears; an
    /// unresolved neighbor on a dual-ToR gets the zero MAC and goes on DELNEIGH.
    @Test func dualToR() {
        var sim = Simulator(config: ReconcilerConfig(batchSize: 10))
        let ll = NeighborKey("Ethernet0:169.254.0.1")!
        let unresolved = NeighborKey("Ethernet0:10.0.0.9")!
        sim.kernel = [ll: Self.reachable("00:00:00:00:00:01")]
        sim.boot()
        sim.quiesce()
        #expect(sim.store.entries[ll] != nil)
        sim.changePolicy(Policy(dualToR: true))
        sim.quiesce()
        #expect(sim.store.entries[ll] == nil)
        sim.kernelSet(unresolved, KernelNeighbor(linkLayerAddress: .absent, state: .incomplete))
        sim.quiesce()
        #expect(sim.store.entries[unresolved] == .valid(NeighborEntry(mac: .zero, family: .ipv4)))
        sim.kernelDelete(unresolved)
        sim.quiesce()
        #expect(sim.store.entries[unresolved] == nil)
    }

    /// test_ipv6_link_local.py: 2 global + 2 fe80 with link-local on; 2 after it is turned off.
    @Test func linkLocalOnAndOff() {
        let e0 = InterfaceName("Ethernet0")!
        let e4 = InterfaceName("Ethernet4")!
        var sim = Simulator(config: ReconcilerConfig(batchSize: 10))
        sim.kernel = [
            NeighborKey("Ethernet0:2000::2")!: Self.reachable("00:00:00:00:00:01"),
            NeighborKey("Ethernet4:2001::2")!: Self.reachable("00:00:00:00:00:02"),
            NeighborKey("Ethernet0:fe80::2")!: Self.reachable("00:00:00:00:00:01"),
            NeighborKey("Ethernet4:fe80::3")!: Self.reachable("00:00:00:00:00:02"),
        ]
        sim.policy = Policy(linkLocalInterfaces: [e0, e4])
        sim.boot()
        sim.quiesce()
        #expect(sim.store.entries.count == 4)
        sim.changePolicy(Policy())  // intfmgrd flushes the fe80 entries; the DELs pass rule 6
        sim.kernelDelete(NeighborKey("Ethernet0:fe80::2")!)
        sim.kernelDelete(NeighborKey("Ethernet4:fe80::3")!)
        sim.quiesce()
        #expect(sim.store.entries.count == 2)
    }

    /// A FAILED resolution for a never-published IP writes nothing (minimality, not upstream's DEL).
    @Test func incompleteForUnknownIPWritesNothing() {
        var sim = Simulator(config: ReconcilerConfig(batchSize: 10))
        sim.boot()
        sim.quiesce()
        sim.kernelSet(NeighborKey("Ethernet0:10.9.9.9")!, KernelNeighbor(linkLayerAddress: .absent, state: .incomplete))
        sim.kernelSet(NeighborKey("Ethernet0:10.9.9.9")!, KernelNeighbor(linkLayerAddress: .absent, state: .failed))
        sim.quiesce()
        #expect(sim.writes.isEmpty)
        #expect(sim.state.counters.kernelMessages == 2)
    }

    @Test func interruptedDumpIsRedone() {
        var sim = Simulator()
        sim.boot()
        #expect(sim.dumpsRequested == 1)
        sim.send(.kernelDumpDone(interrupted: true))
        #expect(sim.dumpsRequested == 2)
        #expect(sim.state.counters.dumpsInterrupted == 1)
        sim.quiesce()
        #expect(sim.state.phase == .steady)
    }

    /// Issue 11 defect 1: a re-dump after an overrun is refused by the kernel (ENOBUFS on the
    /// request); changes made meanwhile must still reach the store through a complete dump.
    @Test(arguments: [false, true]) func refusedDumpEndsInACompleteDump(firstDump: Bool) {
        let a = NeighborKey("Ethernet0:10.0.0.1")!
        let b = NeighborKey("Ethernet0:10.0.0.2")!
        var sim = Simulator()
        sim.kernel = [a: Self.reachable("00:00:00:00:00:01")]
        sim.boot()
        sim.completeStoreRead()
        if !firstDump {
            sim.quiesce()
            sim.beginOverrun()
        }
        sim.kernelSet(b, Self.reachable("00:00:00:00:00:02"))  // lost in the overrun
        sim.reportOverrun()
        let dumpsBefore = sim.dumpsRequested
        sim.refuseDump()
        sim.quiesce()
        #expect(sim.dumpsRequested > dumpsBefore, "no dump after the refused one")
        #expect(sim.storeIsExpected, "\(sim)")
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }

    /// A dump entry read before a change but queued after its notification is the older state
    /// (found by the fault soak: a deleted neighbor and an old MAC left in APPL_DB after a burst):
    /// the dump's view is taken, and a second dump repairs it.
    @Test(arguments: [false, true]) func aDumpThatRacedANotificationIsRepeated(firstDump: Bool) {
        let a = NeighborKey("Ethernet0:10.0.0.1")!
        let b = NeighborKey("Ethernet0:10.0.0.2")!
        var sim = Simulator()
        sim.kernel = [a: Self.reachable("00:00:00:00:00:01"), b: Self.reachable("00:00:00:00:00:02")]
        sim.boot()
        sim.completeStoreRead()
        if !firstDump {
            sim.quiesce()
            sim.beginOverrun()
            sim.reportOverrun()
        }
        #expect(sim.dumpCursor != nil)
        sim.raceDump(a, Self.reachable("00:00:00:00:00:0a"))
        sim.quiesce()
        #expect(sim.state.counters.dumpsRaced == 1)
        #expect(sim.storeIsExpected, "\(sim)")
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }

    /// Issue 11 defect 4: Redis refusing writes (OOM, WRONGTYPE) is not a lost store: no re-read,
    /// no new batch; the same batch is written again after a backoff that doubles up to its cap;
    /// once Redis accepts it, the store converges and the backoff starts again from its floor.
    @Test func refusedBatchIsRetriedWithBackoffWithoutRereadingTheStore() {
        let config = ReconcilerConfig(
            batchSize: 2,
            batchDelayMilliseconds: 5,
            batchesInFlight: 1,
            writeRetry: Backoff(initialMilliseconds: 100, maximumMilliseconds: 1000)
        )
        var sim = Simulator(config: config)
        sim.boot()
        sim.quiesce()
        let keys = (1...5).map { NeighborKey("Ethernet0:10.0.0.\($0)")! }
        for (i, k) in keys.enumerated() { sim.kernelSet(k, Self.reachable(Self.macs[i])) }
        sim.fire(.flush)
        let reloads = sim.state.counters.storeReloads
        guard let refused = sim.inFlight.first else {
            Issue.record("nothing written")
            return
        }
        for round in 0..<6 {
            sim.refuseBatch(applied: round % 2)
            #expect(!sim.wantsStoreLoad, "a refusal re-reads the store")
            #expect(sim.inFlight.isEmpty, "a new batch while Redis refuses writes")
            #expect(sim.state.writesRefused)
            sim.fire(.writeRetry)
            #expect(sim.inFlight.map(\.id) == [refused.id], "round \(round): not the same batch again")
        }
        #expect(sim.delays.filter { $0.timer == .writeRetry }.map(\.milliseconds) == [100, 200, 400, 800, 1000, 1000])
        sim.quiesce()
        #expect(sim.storeIsExpected, "\(sim)")
        #expect(sim.state.counters.storeReloads == reloads)
        #expect(sim.state.counters.batchesRefused == 6 && !sim.state.writesRefused)
        #expect(sim.violations.isEmpty, "\(sim.violations)")
        // The next refusal waits the shortest time again.
        sim.kernelSet(NeighborKey("Ethernet4:10.0.0.9")!, Self.reachable(Self.macs[7]))
        sim.fire(.flush)
        sim.refuseBatch(applied: 0)
        #expect(sim.delays.last?.timer == .writeRetry && sim.delays.last?.milliseconds == 100)
    }

    /// Shutdown does not wait for Redis to accept a refused batch: it stays in flight in the journal.
    @Test func shutdownDoesNotWaitForARefusedBatch() {
        var sim = Simulator(config: ReconcilerConfig(batchSize: 2, batchesInFlight: 1))
        sim.boot()
        sim.quiesce()
        sim.kernelSet(NeighborKey("Ethernet0:10.0.0.1")!, Self.reachable(Self.macs[0]))
        sim.fire(.flush)
        sim.send(.shutdownRequested)
        #expect(sim.exitCode == nil)
        sim.refuseBatch(applied: 0)
        #expect(sim.exitCode == 0)
        #expect(sim.journal.inFlight.count == 1)
    }

    /// EVPN: a neighbor on an interface of a `Vrf*` VRF has its ROUTE_TABLE host route removed before
    /// its SET (spec §2 "Output"). Upstream sends the dump's messages through the callback that live
    /// ones take, so this holds for a SET that a dump's resync or the warm reconcile writes too.
    @Test(arguments: ["cold start", "re-dump", "warm reconcile"])
    func hostRouteIsRemovedBeforeASetThatAResyncWrites(path: String) {
        let vrf = InterfaceName("Vrf_red")!
        let key = NeighborKey("Vlan100:10.1.0.5")!
        let message = NeighborMessage(
            type: .newNeighbor,
            family: key.ip.family.rawValue,
            interface: key.interface,
            master: vrf,
            destination: key.ip,
            linkLayerAddress: .mac(MACAddress(Self.macs[0])!),
            state: .reachable
        )
        let warm = path == "warm reconcile"
        var state = DaemonState()
        var effects = step(&state, .started(StartupConfig(warmStart: warm, policy: Policy(evpn: true))))
        effects += step(&state, .storeLoaded(StoreSnapshot()))
        if warm { effects += step(&state, .restoreFlagSet) }
        if path != "re-dump" { effects += step(&state, .kernelMessage(message)) }
        effects += step(&state, .kernelDumpDone(interrupted: false))
        if warm { effects += step(&state, .timerFired(.reconcile)) }
        if path == "re-dump" {
            // The notification was lost in an overrun: the re-dump brings the neighbor.
            effects += step(&state, .kernelOverrun)
            effects += step(&state, .kernelMessage(message))
            effects += step(&state, .kernelDumpDone(interrupted: false))
        }
        let write = effects.firstIndex {
            if case .write(let b) = $0 { return b.changes.contains { $0.isSet && $0.keyText == key.description } }
            return false
        }
        let routeDel = effects.firstIndex(of: .removeHostRoute(vrf: vrf, ip: key.ip))
        #expect(write != nil, "\(effects)")
        #expect(routeDel != nil && write != nil && routeDel! < write!, "\(effects)")
    }

    /// A dump still running at shutdown is abandoned: the messages that follow the request are not
    /// read, so its view is incomplete. It must not replace the kernel view (nor become the
    /// journal's, which `reconcile --journal` diffs), and no other dump is asked for.
    @Test func shutdownAbandonsARunningDump() throws {
        let key = NeighborKey("Ethernet0:10.0.0.1")!
        let message = NeighborMessage(
            type: .newNeighbor,
            family: key.ip.family.rawValue,
            interface: key.interface,
            destination: key.ip,
            linkLayerAddress: .mac(MACAddress(Self.macs[0])!),
            state: .reachable
        )
        var state = DaemonState()
        _ = step(&state, .started(StartupConfig(warmStart: false)))
        _ = step(&state, .storeLoaded(StoreSnapshot()))
        _ = step(&state, .kernelMessage(message))
        _ = step(&state, .kernelDumpDone(interrupted: false))
        #expect(state.phase == .steady && state.inFlight.count == 1)
        _ = step(&state, .kernelOverrun)  // a re-dump starts
        _ = step(&state, .kernelDumpRaced)  // and wants one more after it
        _ = step(&state, .shutdownRequested)  // the batch's reply is awaited
        #expect(state.phase == .stopping)
        var effects = step(&state, .kernelMessage(message))
        effects += step(&state, .kernelDumpDone(interrupted: false))
        effects += step(&state, .timerFired(.redumpCooldown))
        #expect(state.kernel[key] != nil, "the kernel view was replaced by an incomplete dump")
        #expect(
            !effects.contains { if case .journal(.desiredReplaced) = $0 { return true } else { return false } },
            "\(effects)"
        )
        #expect(!effects.contains(.requestKernelDump), "\(effects)")
        let id = try #require(state.inFlight.first?.id)
        #expect(step(&state, .batchAcknowledged(id: id)).contains(.exit(code: 0)))
    }

    /// The desired view goes to the journal once the store has caught up with the dump, not at the
    /// dump's end: built and committed there (~100 ms for 100,000 neighbors), it held up the cold
    /// start's next batches, whose records queued behind it.
    @Test func theDesiredViewIsJournaledOnceTheStoreHasCaughtUp() throws {
        var (state, effects) = Self.coldStartOfFiveNeighbors()
        #expect(!effects.contains(where: Self.isDesiredRecord), "recorded before the store caught up")
        var acknowledgements = 0
        while let batch = state.inFlight.first {
            let after = step(&state, .batchAcknowledged(id: batch.id))
            acknowledgements += 1
            let caughtUp = state.inFlight.isEmpty && state.pendingCount == 0
            #expect(
                after.filter(Self.isDesiredRecord)
                    == (caughtUp ? [.journal(.desiredReplaced(state.desiredEntries))] : [])
            )
        }
        #expect(acknowledgements == 3 && state.desiredEntries.count == 5)
    }

    /// A store that does not catch up (Redis refusing writes) does not keep the dump's desired view
    /// out of the journal past `.desiredRecord`, armed at the dump's end.
    @Test func theDesiredViewIsJournaledAtTheDeadlineIfTheStoreLags() throws {
        var (state, done) = Self.coldStartOfFiveNeighbors()
        #expect(done.contains(.armTimer(.desiredRecord, milliseconds: 1000)), "\(done)")
        let id = try #require(state.inFlight.first?.id)
        #expect(!step(&state, .batchRefused(id: id, reason: "OOM")).contains(where: Self.isDesiredRecord))
        let fired = step(&state, .timerFired(.desiredRecord))
        #expect(fired == [.journal(.desiredReplaced(state.desiredEntries))] && state.desiredEntries.count == 5)
        #expect(!step(&state, .timerFired(.desiredRecord)).contains(where: Self.isDesiredRecord), "recorded twice")
    }

    /// While batches are still being acknowledged the record waits for the store to catch up (it
    /// would hold up the next batches); a second with none, and it goes.
    @Test func theDesiredViewWaitsWhileTheStoreCatchesUp() throws {
        var (state, _) = Self.coldStartOfFiveNeighbors()
        let first = try #require(state.inFlight.first?.id)
        _ = step(&state, .batchAcknowledged(id: first))
        #expect(!state.inFlight.isEmpty, "caught up already: nothing to wait for")
        #expect(step(&state, .timerFired(.desiredRecord)) == [.armTimer(.desiredRecord, milliseconds: 1000)])
        let fired = step(&state, .timerFired(.desiredRecord))
        #expect(fired == [.journal(.desiredReplaced(state.desiredEntries))], "\(fired)")
    }

    /// A clean exit before the store caught up still leaves the last complete dump's desired view.
    @Test func anExitBeforeCatchingUpJournalsTheDesiredView() throws {
        var (state, _) = Self.coldStartOfFiveNeighbors()
        _ = step(&state, .shutdownRequested)
        let id = try #require(state.inFlight.first?.id)
        let last = step(&state, .batchAcknowledged(id: id))
        let record = try #require(last.firstIndex(where: Self.isDesiredRecord))
        #expect(last[record] == .journal(.desiredReplaced(state.desiredEntries)) && state.desiredEntries.count == 5)
        #expect(last.firstIndex(of: .exit(code: 0)).map { record < $0 } == true, "\(last)")
    }

    /// A cold start with an empty store whose dump holds five neighbors, written in batches of
    /// two, one in flight: at the dump's end the first batch is in flight and three keys wait. The
    /// effects are those of the dump's messages and its end.
    static func coldStartOfFiveNeighbors() -> (DaemonState, [Effect]) {
        var state = DaemonState(config: ReconcilerConfig(batchSize: 2, batchesInFlight: 1))
        _ = step(&state, .started(StartupConfig(warmStart: false)))
        _ = step(&state, .storeLoaded(StoreSnapshot()))
        var effects: [Effect] = []
        for i in 0..<5 { effects += step(&state, .kernelMessage(Self.newNeighbor(i))) }
        effects += step(&state, .kernelDumpDone(interrupted: false))
        return (state, effects)
    }

    static func newNeighbor(_ i: Int) -> NeighborMessage {
        let key = NeighborKey("Ethernet0:10.0.0.\(i + 1)")!
        return NeighborMessage(
            type: .newNeighbor,
            family: key.ip.family.rawValue,
            interface: key.interface,
            destination: key.ip,
            linkLayerAddress: .mac(MACAddress(Self.macs[i % Self.macs.count])!),
            state: .reachable
        )
    }

    static func isDesiredRecord(_ e: Effect) -> Bool {
        if case .journal(.desiredReplaced) = e { return true } else { return false }
    }
}
