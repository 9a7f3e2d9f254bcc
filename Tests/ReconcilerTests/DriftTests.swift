import Model
import PropertyBased
import PropertySeed
import Testing

@testable import Reconciler

/// Anti-entropy: APPL_DB changed behind the daemon's back is noticed by a verifying read and
/// repaired through the ordinary plan (docs/state-machine.md, "Drift").
@Suite struct DriftTests {
    static let config = ReconcilerConfig(batchSize: 4, batchDelayMilliseconds: 5, verifyIntervalMilliseconds: 1000)
    static let keys = (1...3).map { NeighborKey("Ethernet0:10.0.0.\($0)")! }
    static func mac(_ i: Int) -> MACAddress { MACAddress(String(format: "00:00:00:00:00:%02x", i))! }

    /// A cold start in steady state with three neighbors written and acknowledged.
    static func inSync(config: ReconcilerConfig = config) -> Simulator {
        var sim = Simulator(config: config)
        for (i, k) in keys.enumerated() {
            sim.kernel[k] = KernelNeighbor(linkLayerAddress: .mac(mac(i + 1)), state: .reachable)
        }
        sim.boot()
        sim.quiesce()
        #expect(sim.state.phase == .steady && sim.storeIsExpected)
        return sim
    }

    /// One verifying read, start to end, then everything it caused.
    /// Asks for a verifying read and fails it; returns the read's id.
    @discardableResult static func failVerifyRead(_ sim: inout Simulator) -> UInt64? {
        sim.fire(.verify)
        guard let id = sim.verifyWanted else {
            #expect(Bool(false), "no read asked for")
            return nil
        }
        sim.verifyWanted = nil
        sim.send(.storeVerifyFailed(id: id, reason: "timeout"))
        return id
    }

    static func verify(_ sim: inout Simulator) {
        sim.fire(.verify)
        #expect(sim.verifyWanted != nil, "no verifying read asked for")
        sim.completeVerifyRead()
        sim.quiesce()
    }

    /// The issue's three corruptions, plus a key that does not parse.
    @Test func theThreeCorruptionsAreRepaired() {
        var sim = Self.inSync()
        let bogus = NeighborKey("Ethernet4:10.0.0.9")!
        sim.store.entries[Self.keys[0]] = .valid(NeighborEntry(mac: Self.mac(0x99), family: .ipv4))
        sim.store.entries.removeValue(forKey: Self.keys[1])
        sim.store.entries[bogus] = .valid(NeighborEntry(mac: Self.mac(7), family: .ipv4))
        sim.store.malformedKeys.insert("not-a-key")
        Self.verify(&sim)
        #expect(sim.storeIsExpected, "\(sim.store)")
        var want = DriftCounts()
        (want.changed, want.missing, want.unknown, want.malformed) = (1, 1, 1, 1)
        #expect(sim.state.counters.driftFound == want)
        #expect(sim.state.counters.driftRepaired == want)
        #expect(sim.logs.contains { $0.contains("drift: Ethernet0:10.0.0.1 changed") })
        #expect(sim.logs.contains { $0.contains("drift: Ethernet0:10.0.0.2 missing") })
        #expect(sim.logs.contains { $0.contains("drift: Ethernet4:10.0.0.9 unknown") })
        #expect(sim.logs.contains { $0.contains("drift: malformed key not-a-key") })
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }

    @Test func nothingDriftedWritesAndJournalsNothing() {
        var sim = Self.inSync()
        let (writes, reloads) = (sim.writes.count, sim.storeReloadRecords)
        Self.verify(&sim)
        Self.verify(&sim)
        #expect(sim.state.counters.verifications == 2)
        #expect(sim.writes.count == writes)
        #expect(sim.storeReloadRecords == reloads, "a verification without drift was journaled")
        #expect(!sim.logs.contains { $0.contains("drift") })
    }

    /// More drifted keys than `driftLogLimit`: one line each up to it, then a summary.
    @Test func theLogIsBounded() {
        var sim = Self.inSync()
        for i in 0..<(DaemonState.driftLogLimit + 5) {
            sim.store.malformedKeys.insert("junk\(i)")
        }
        Self.verify(&sim)
        #expect(sim.logs.filter { $0.hasPrefix("NEIGH_TABLE drift: malformed key") }.count == DaemonState.driftLogLimit)
        #expect(
            sim.logs.contains {
                $0.contains("\(DaemonState.driftLogLimit + 5) key(s) differ") && $0.contains("5 not logged")
            }
        )
        #expect(sim.store.malformedKeys.isEmpty)
    }

    /// A batch the read saw applied before its acknowledgement came: not drift.
    @Test func aKeyInFlightIsNotDrift() {
        var sim = Self.inSync()
        let k = NeighborKey("Ethernet0:10.0.0.4")!
        sim.kernelSet(k, KernelNeighbor(linkLayerAddress: .mac(Self.mac(4)), state: .reachable))
        sim.fire(.flush)
        #expect(sim.inFlight.count == 1)
        sim.fire(.verify)
        sim.store.apply(sim.inFlight[0])  // Redis applied it; the reply is still on its way
        sim.completeVerifyRead()
        sim.quiesce()
        #expect(sim.state.counters.driftFound.total == 0, "\(sim.logs)")
        #expect(sim.storeIsExpected)
    }

    /// A batch written while the read ran, which the read did not see: not drift either.
    @Test func aKeyWrittenDuringTheReadIsNotDrift() {
        var sim = Self.inSync()
        let k = NeighborKey("Ethernet0:10.0.0.4")!
        sim.fire(.verify)
        sim.kernelSet(k, KernelNeighbor(linkLayerAddress: .mac(Self.mac(4)), state: .reachable))
        sim.fire(.flush)
        sim.acknowledge()
        sim.completeVerifyRead(early: true)
        sim.quiesce()
        #expect(sim.state.counters.driftFound.total == 0, "\(sim.logs)")
        #expect(sim.storeIsExpected)
    }

    /// Nothing is verified before steady state: a warm restart's reconcile timer writes nothing,
    /// and a repair is a write.
    @Test func noVerificationBeforeTheWarmReconcile() {
        var sim = Simulator(config: Self.config)
        sim.warmStart = true
        sim.kernel[Self.keys[0]] = KernelNeighbor(linkLayerAddress: .mac(Self.mac(1)), state: .reachable)
        sim.boot()
        sim.completeStoreRead()
        sim.restoreFlagCheck()
        sim.dumpChunk(100)
        #expect(sim.state.phase == .awaitingReconcileTimer)
        sim.send(.timerFired(.verify))  // a stray firing
        #expect(sim.verifyWanted == nil)
        #expect(!sim.armed.contains(.verify))
        sim.fire(.reconcile)
        sim.quiesce()
        #expect(sim.armed.contains(.verify))
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }

    /// A read that failed is dropped; the next interval asks again.
    @Test func aFailedReadIsRetriedNextInterval() {
        var sim = Self.inSync()
        Self.failVerifyRead(&sim)
        sim.store.entries.removeValue(forKey: Self.keys[2])
        Self.verify(&sim)
        #expect(sim.state.counters.driftFound.missing == 1)
        #expect(sim.storeIsExpected)
    }

    // MARK: properties

    /// Scenario actions with tampering and verifying reads inserted at generated places.
    static func withAdversary(_ s: Scenario, _ inserts: [UInt32], tampering: Bool) -> Scenario {
        var s = s
        for v in inserts {
            // orchagent pops at generated points too, and the read takes its two parts at
            // generated instants: the daemon's own writes popped meanwhile are not drift.
            let a: [Action] =
                switch v % 6 {
                case 0 where tampering: [.tamper(v >> 3)]
                case 1: [.verifyRead(early: v & 8 != 0)]
                case 3: [.consumerPop(Int(v >> 3) % 8)]
                case 4: [.verifyReadFirstPart]
                // A read asked after an acknowledgement, a pop between its two parts.
                case 5:
                    [.acknowledge, .fire(.verify), .verifyReadFirstPart, .consumerPop(8), .verifyRead(early: false)]
                default: [.fire(.verify)]
                }
            s.actions.insert(contentsOf: a, at: Int(v >> 8) % (s.actions.count + 1))
        }
        s.actions.insert(.consumerPop(0), at: 0)  // orchagent lags from the start
        return s
    }

    static let inserts = Gen.uint32(in: 0...UInt32.max).array(of: 0...30)

    /// At quiescence every drift found was repaired, and nothing waits for repair.
    static func expectDriftCountersSettled(_ sim: Simulator, _ s: Scenario) {
        let c = sim.state.counters
        #expect(c.driftFound == c.driftRepaired, "found \(c.driftFound), repaired \(c.driftRepaired) in \(s)")
        #expect(sim.state.driftToRepair.isEmpty, "\(sim.state.driftToRepair) in \(s)")
        #expect(sim.state.malformedDriftToRepair.isEmpty, "\(sim.state.malformedDriftToRepair) in \(s)")
    }

    /// An adversary changes the store at any point; once it stops, the next verification and the
    /// repairs it starts make the store the kernel's table again.
    @Test(replayingSeed) func driftAnywhereConverges() async {
        await propertyCheck(count: PropertyTests.cases, input: PropertyTests.input, Self.inserts) { values, inserts in
            let s = Self.withAdversary(Scenario(values), inserts, tampering: true)
            var sim = s.run(config: Self.config)
            Self.verify(&sim)
            #expect(sim.violations.isEmpty, "\(sim.violations) in \(s)")
            #expect(sim.storeIsExpected, "store \(sim.store) != expected \(sim.expectedStore) in \(s)")
            #expect(sim.state.phase == .steady, "phase \(sim.state.phase) in \(s)")
            Self.expectDriftCountersSettled(sim, s)
            if sim.tampered == 0 { #expect(sim.state.counters.driftFound.total == 0, "no adversary in \(s)") }
        }
        PropertyTests.report()
    }

    /// Without an adversary, no verification ever finds drift, whatever the daemon is doing.
    @Test(replayingSeed) func theDaemonsOwnWritesAreNeverDrift() async {
        await propertyCheck(count: PropertyTests.cases, input: PropertyTests.input, Self.inserts) { values, inserts in
            let s = Self.withAdversary(Scenario(values), inserts, tampering: false)
            var sim = s.run(config: Self.config)
            Self.verify(&sim)
            #expect(sim.violations.isEmpty, "\(sim.violations) in \(s)")
            #expect(sim.state.counters.driftFound.total == 0, "\(sim.logs.filter { $0.contains("drift") }) in \(s)")
            Self.expectDriftCountersSettled(sim, s)
            #expect(sim.storeIsExpected, "store \(sim.store) != expected \(sim.expectedStore) in \(s)")
        }
        PropertyTests.report()
    }
}

extension DriftTests {
    /// A value that does not parse (in Redis it may not even be a hash) is repaired by a SET that
    /// replaces it, not one that HSETs over it (orchagent's pop would fail with WRONGTYPE).
    @Test func aMalformedValueIsRepairedByAReplacingSet() {
        var sim = Self.inSync()
        sim.store.entries[Self.keys[0]] = .malformed
        let before = sim.writes.count
        Self.verify(&sim)
        #expect(sim.storeIsExpected)
        let repairs = sim.writes[before...].map(\.batch)
        #expect(repairs.count == 1)
        #expect(repairs.first?.replacing == [Self.keys[0]])
        #expect(repairs.first?.changes == [.set(Self.keys[0], NeighborEntry(mac: Self.mac(1), family: .ipv4))])
        #expect(sim.state.counters.driftRepaired.malformed == 1)
    }
}

extension DriftTests {
    /// Drift is not journaled as a whole store view: that rewrote 100,000 entries per interval
    /// with a persistent other writer, and forgot the batches in flight (after a crash the journal
    /// said none were). The repairs' `batchApplied` records bring the journal forward.
    @Test func driftKeepsTheJournalsBatchesInFlight() {
        var sim = Self.inSync()
        let k = NeighborKey("Ethernet0:10.0.0.4")!
        sim.kernelSet(k, KernelNeighbor(linkLayerAddress: .mac(Self.mac(4)), state: .reachable))
        sim.fire(.flush)
        guard let batch = sim.inFlight.first else { return #expect(Bool(false), "no batch in flight") }
        let reloads = sim.storeReloadRecords
        sim.store.entries[Self.keys[0]] = .valid(NeighborEntry(mac: Self.mac(0x99), family: .ipv4))
        sim.fire(.verify)
        sim.completeVerifyRead()
        #expect(sim.state.counters.driftFound.changed == 1)
        #expect(sim.journal.inFlight.contains { $0.id == batch.id }, "\(sim.journal.inFlight)")
        #expect(sim.storeReloadRecords == reloads)
        sim.quiesce()
        #expect(sim.storeIsExpected)
        #expect(sim.journal.actual == sim.state.actual)
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }
}

extension DriftTests {
    /// While a re-dump runs, the kernel view may be stale (the dump runs because notifications
    /// were lost, or links changed): drift found then corrects `actual` but writes nothing; the
    /// resync at the dump's end compares the corrected view with the fresh dump.
    @Test func noRepairFromAStaleKernelViewDuringARedump() {
        var sim = Self.inSync()
        let k = Self.keys[1]
        sim.send(.linksChanged)
        #expect(sim.dumpCursor != nil, "no re-dump")
        sim.kernel.removeValue(forKey: k)  // flushed with the link: no notification
        sim.store.entries.removeValue(forKey: k)  // and someone deleted it from APPL_DB too
        let before = sim.writes.count
        sim.fire(.verify)
        sim.completeVerifyRead()
        sim.fire(.flush)
        #expect(
            !sim.writes[before...].contains { $0.batch.changes.contains { $0.isSet && $0.keyText == k.description } }
        )
        #expect(sim.state.counters.driftFound.missing == 1)
        sim.quiesce()
        #expect(!sim.writes[before...].contains { $0.batch.changes.contains { $0.keyText == k.description } })
        #expect(sim.storeIsExpected, "\(sim.store)")
        #expect(sim.state.counters.driftRepaired.missing == 1)
        #expect(sim.state.driftToRepair.isEmpty)
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }

    /// A key found drifted again while its repair waits for a re-dump's end is the same drift:
    /// found once, so the one repair settles it (found == repaired at quiescence).
    @Test func aDriftFoundTwiceBeforeItsRepairIsCountedOnce() {
        var sim = Self.inSync()
        let k = Self.keys[1]
        sim.send(.linksChanged)
        #expect(sim.dumpCursor != nil, "no re-dump")
        sim.store.entries.removeValue(forKey: k)
        sim.fire(.verify)
        sim.completeVerifyRead()
        sim.store.entries[k] = .valid(NeighborEntry(mac: Self.mac(9), family: .ipv4))
        sim.fire(.verify)
        sim.completeVerifyRead()
        #expect(sim.state.counters.driftFound.total == 1, "\(sim.state.counters.driftFound)")
        sim.quiesce()
        #expect(sim.storeIsExpected, "\(sim.store)")
        #expect(sim.state.counters.driftFound == sim.state.counters.driftRepaired)
        #expect(sim.state.driftToRepair.isEmpty)
    }
}

extension DriftTests {
    /// A failed verifying read is counted (`verify_failures_total`).
    @Test func aFailedReadIsCounted() {
        var sim = Self.inSync()
        guard let id = Self.failVerifyRead(&sim) else { return }
        sim.send(.storeVerifyFailed(id: id, reason: "timeout"))  // not the read outstanding: ignored
        #expect(sim.state.counters.verifyFailures == 1)
        #expect(sim.logs.contains { $0.contains("verifying read of APPL_DB failed: timeout") })
    }

    /// A key another writer keeps changing drifts at every read: one WARNING when it has at
    /// `persistentDriftReads` reads in a row, not one per read after.
    @Test func persistentDriftIsWarnedOnce() {
        var sim = Self.inSync()
        for round in 0..<(DaemonState.persistentDriftReads + 2) {
            sim.store.entries[Self.keys[0]] = .valid(NeighborEntry(mac: Self.mac(0x90 + round), family: .ipv4))
            Self.verify(&sim)
        }
        let warnings = sim.logs.filter { $0.contains("another writer?") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains(Self.keys[0].description) == true)
        #expect(sim.state.counters.driftFound.changed == DaemonState.persistentDriftReads + 2)
        // A read that finds it in order again ends the streak.
        Self.verify(&sim)
        #expect(sim.state.driftStreaks.isEmpty)
    }
}

extension DriftTests {
    /// orchagent pops the daemon's acknowledged write between the verifying read's two parts:
    /// not drift (the reader takes the pending part first, at one instant).
    @Test(arguments: [false, true]) func aWritePoppedDuringTheReadIsNotDrift(oldReaderOrder: Bool) {
        var sim = Self.inSync()
        sim.readerReadsConsumedFirst = oldReaderOrder
        Self.verify(&sim)  // the next read is an interval away: none is asked before the write
        sim.consumerPop(0)  // orchagent lags from here
        let k = NeighborKey("Ethernet0:10.0.0.4")!
        sim.kernelSet(k, KernelNeighbor(linkLayerAddress: .mac(Self.mac(4)), state: .reachable))
        sim.fire(.flush)
        sim.acknowledge()
        #expect(sim.pendingConsumed.count == 1)
        sim.fire(.verify)
        #expect(sim.verifyWanted != nil)
        sim.verifyReadFirstPart()
        sim.consumerPop(1)
        sim.completeVerifyRead()
        // The old order (consumed table first) saw the key in neither part.
        #expect((sim.state.counters.driftFound.missing == 1) == oldReaderOrder, "\(sim.state.counters)")
    }
}

extension DriftTests {
    /// A malformed key orchagent parses as a managed neighbor (`2000:0:0:0:0:0:0:2` is
    /// `2000::2`): deleting it makes orchagent remove that neighbor from the ASIC while
    /// `NEIGH_TABLE:<canonical>` is unchanged. So once the DEL is acknowledged, the canonical key
    /// is written again.
    @Test func deletingAnAliasOfAManagedKeyWritesTheKeyAgain() {
        var sim = Self.inSync()
        let k = NeighborKey("Ethernet8:2000::2")!
        let e = NeighborEntry(mac: Self.mac(8), family: .ipv6)
        sim.kernelSet(k, KernelNeighbor(linkLayerAddress: .mac(Self.mac(8)), state: .reachable))
        sim.quiesce()
        let alias = "Ethernet8:2000:0:0:0:0:0:0:2"
        sim.store.malformedKeys.insert(alias)
        let before = sim.writes.count
        Self.verify(&sim)
        let batches = sim.writes[before...].map(\.batch)
        let del = batches.firstIndex { $0.changes.contains(.delMalformed(alias)) }
        let set = batches.lastIndex { $0.changes.contains(.set(k, e)) }
        #expect(del != nil && set != nil && del! < set!, "\(batches)")
        #expect(sim.storeIsExpected)
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }
}
