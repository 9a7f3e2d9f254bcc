import Foundation
import Model
import PropertyBased
import PropertySeed
import Testing

@testable import Reconciler

/// Properties of the core over generated worlds and event orders. Each runs `cases` generated
/// scenarios; a failure prints the scenario and the seed of that case. The seed alone replays it:
/// `NEIGHSYNCD_PROPERTY_SEED=<seed> swift test --filter PropertyTests/<property>` (or
/// `.fixedSeed("<seed>")` on the test), in any process, since no order in the core or the
/// simulator comes from hashing (ScenarioTraceTests). See docs/testing.md.
@Suite struct PropertyTests {
    /// 1,000 by default; `NEIGHSYNCD_PROPERTY_CASES=100000` for a deeper search.
    static let cases = ProcessInfo.processInfo.environment["NEIGHSYNCD_PROPERTY_CASES"].flatMap { Int($0) } ?? 1_000
    /// One line per property that ran to the end, counted by scripts/test.
    static func report(_ name: String = #function) { print("property \(name): \(cases) generated cases checked") }

    static let input = Gen.uint32(in: 0...UInt32.max).array(of: 0...80)

    @Test(replayingSeed) func convergence() async {
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            let s = Scenario(values)
            let sim = s.run()
            #expect(sim.violations.isEmpty, "\(sim.violations) in \(s)")
            #expect(sim.storeIsExpected, "store \(sim.store) != expected \(sim.expectedStore) in \(s)")
            #expect(sim.state.phase == .steady, "phase \(sim.state.phase) in \(s)")
        }
        Self.report()
    }

    @Test(replayingSeed) func everyWriteChangesTheStore() async {
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            let s = Scenario(values)
            let sim = s.run()
            for (batch, before) in sim.writes {
                for c in batch.changes {
                    switch c {
                    case .set(let k, let e):
                        #expect(before.entries[k] != .valid(e), "SET \(k) equal to the store in \(s)")
                    case .del(let k): #expect(before.entries[k] != nil, "DEL of absent \(k) in \(s)")
                    case .delMalformed(let raw): #expect(before.malformedKeys.contains(raw), "DEL of absent \(raw)")
                    }
                }
            }
        }
        Self.report()
    }

    /// Also: never more than `batchesInFlight` in flight, and batches in flight share no key
    /// (both checked by the simulator at every write, as violations).
    @Test(replayingSeed) func batchesAreBoundedDisjointAndOneOpPerKey() async {
        await propertyCheck(count: Self.cases, input: Self.input, Gen.int(in: 1...7), Gen.int(in: 1...3)) {
            values,
            size,
            window in
            let s = Scenario(values)
            let sim = s.run(
                config: ReconcilerConfig(batchSize: size, batchDelayMilliseconds: 1, batchesInFlight: window)
            )
            #expect(sim.violations.isEmpty, "\(sim.violations) in \(s)")
            #expect(sim.writes.allSatisfy { $0.batch.changes.count <= size && !$0.batch.changes.isEmpty })
            let ids = sim.writes.map(\.batch.id)
            #expect(Set(ids).count == ids.count, "batch ids reused: \(ids)")
        }
        Self.report()
    }

    @Test(replayingSeed) func sameDumpTwiceWritesNothing() async {
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            let s = Scenario(values)
            var sim = s.run()
            let before = sim.writes.count
            for _ in 0..<2 {
                sim.fire(.redumpCooldown)
                sim.send(.linksChanged)  // asks for a fresh dump of the unchanged kernel
                sim.quiesce()
            }
            #expect(
                sim.writes.count == before,
                "a repeated dump wrote \(sim.writes.dropFirst(before).map(\.batch)) in \(s)"
            )
            #expect(sim.state.counters.dumps >= 2)
        }
        Self.report()
    }

    @Test(replayingSeed) func crashAnywhereConvergesToTheSameStore() async {
        await propertyCheck(count: Self.cases, input: Self.input, Gen.int(in: 0...80), Gen.int(in: 0...4)) {
            values,
            at,
            applied in
            var s = Scenario(values)
            s.actions.insert(.crash(applied: applied), at: min(at, s.actions.count))
            let crashed = s.run(crashes: true)
            let clean = s.run(crashes: false)
            #expect(crashed.violations.isEmpty, "\(crashed.violations) in \(s)")
            #expect(crashed.store == clean.store, "crash run \(crashed.store) != clean run \(clean.store) in \(s)")
            #expect(crashed.storeIsExpected)
        }
        Self.report()
    }

    @Test(replayingSeed) func journalReplayRestoresTheAcknowledgedStore() async {
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            let s = Scenario(values)
            var sim = s.makeSimulator()
            sim.boot()
            for a in s.actions where !a.isCrash {
                sim.perform(a)
                let replayed = DaemonState(config: sim.config, replaying: sim.journal)
                #expect(replayed.actual == sim.state.actual, "replay lost acknowledged writes after \(a) in \(s)")
                #expect(replayed.lastBatchID >= (sim.state.inFlight.last?.id ?? 0))
            }
            #expect(sim.violations.isEmpty, "\(sim.violations)")
        }
        Self.report()
    }

    @Test(replayingSeed) func warmRestartWithNothingChangedWritesNothing() async {
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            var s = Scenario(values)
            s.warmStart = true
            s.store = StoreSnapshot(valid: s.makeSimulator().expectedStore)
            s.actions = s.actions.filter {
                switch $0 {
                case .kernelSet, .kernelDelete, .policy, .storeDown, .failBatch, .crash: false
                default: true
                }
            }
            let sim = s.run()
            #expect(sim.writes.isEmpty, "warm restart wrote \(sim.writes.map(\.batch)) in \(s)")
            #expect(sim.warmStates.suffix(3) == [.initialized, .restored, .reconciled], "\(sim.warmStates)")
            #expect(!sim.logs.contains { $0.contains("cache-state:") })
        }
        Self.report()
    }

    @Test(replayingSeed) func nothingIsWrittenBeforeTheReconcileTimer() async {
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            var s = Scenario(values)
            s.warmStart = true
            var sim = s.makeSimulator()
            sim.boot()
            for a in s.actions {
                if case .crash = a { break }
                // Up to the reconcile timer: time may reach its deadline while waiting for another.
                var next = sim
                next.perform(a)
                if next.fired.contains(where: { $0.timer == .reconcile }) { break }
                sim = next
            }
            #expect(sim.writes.isEmpty, "written before the reconcile timer in \(s)")
            #expect(sim.state.phase != .steady)
            sim.quiesce()
            #expect(sim.storeIsExpected)
            #expect(sim.warmStates.last == .reconciled, "\(sim.warmStates) in \(s)")
        }
        Self.report()
    }

    @Test(replayingSeed) func overrunsAreRecoveredAndRedumpsRateLimited() async {
        await propertyCheck(count: Self.cases, input: Self.input, Gen.uint32(in: 0...UInt32.max).array(of: 1...40)) {
            values,
            burst in
            let s = Scenario(values)
            var sim = s.makeSimulator()
            sim.boot()
            for a in s.actions where !a.isCrash { sim.perform(a) }
            // A burst the socket cannot hold: the daemon must find out and recover.
            sim.beginOverrun()
            for v in burst {
                if v & 1 == 0 {
                    sim.kernelSet(Universe.key(v >> 1), Universe.neighbor(v >> 6))
                } else {
                    sim.kernelDelete(Universe.key(v >> 1))
                }
            }
            let dumpsBefore = sim.dumpsRequested
            sim.reportOverrun()
            sim.reportOverrun()  // a second report is not a second overrun
            #expect(sim.dumpsRequested <= dumpsBefore + 1, "more than one dump per cooldown")
            sim.quiesce()
            #expect(sim.storeIsExpected, "not recovered after an overrun in \(s)")
            #expect(sim.violations.isEmpty, "\(sim.violations)")
        }
        Self.report()
    }

    @Test(replayingSeed) func turningLinkLocalOnPublishesExistingLinkLocalNeighbors() async {
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            var s = Scenario(values)
            s.policy = Policy()
            s.actions = s.actions.filter { if case .policy = $0 { false } else { true } }
            var sim = s.run()
            let ll = sim.kernel.filter { $0.key.ip.isIPv6LinkLocal && $0.key.interface.rawValue == "Ethernet0" }
            let before = sim.writes.count
            sim.changePolicy(Policy(linkLocalInterfaces: [InterfaceName("Ethernet0")!]))
            sim.quiesce()
            let published = sim.writes.dropFirst(before).flatMap(\.batch.changes).compactMap { c -> NeighborKey? in
                if case .set(let k, _) = c { k } else { nil }
            }
            let expected = ll.compactMap { k, n in desiredEntry(for: k, n, policy: sim.policy) == nil ? nil : k }
            #expect(Set(published) == Set(expected), "published \(published), expected \(expected) in \(s)")
            #expect(sim.storeIsExpected)
        }
        Self.report()
    }

    @Test(replayingSeed) func restoreFlagTimeoutExitsWithOneAndWritesNothing() async {
        await propertyCheck(count: Self.cases, input: Self.input) { values in
            var s = Scenario(values)
            s.warmStart = true
            var sim = s.makeSimulator()
            sim.restoreFlag = false
            sim.boot()
            for a in s.actions {
                if case .storeUpAndFlag = a {
                    sim.storeComesUp()
                    continue
                }
                if case .crash = a { continue }
                sim.perform(a)
            }
            sim.storeComesUp()
            sim.send(.restoreWaitTimedOut)
            #expect(sim.exitCode == 1, "exit \(String(describing: sim.exitCode)) in \(s)")
            #expect(sim.writes.isEmpty)
            #expect(sim.dumpsRequested == 0, "dumped before the restore flag")
        }
        Self.report()
    }

    @Test(replayingSeed) func kernelDeleteGivesOneDelForPublishedAndNoneForUnpublished() async {
        await propertyCheck(count: Self.cases, input: Self.input, Gen.int(in: 0..<Universe.keys.count)) {
            values,
            keyIndex in
            var s = Scenario(values)
            s.actions = s.actions.filter { if case .crash = $0 { false } else { true } }
            var sim = s.run()
            let key = Universe.keys[keyIndex]
            let wasPublished = sim.store.entries[key] != nil
            let before = sim.writes.count
            sim.kernelDelete(key)
            sim.quiesce()
            let dels = sim.writes.dropFirst(before).flatMap(\.batch.changes).filter { $0 == .del(key) }.count
            #expect(dels == (wasPublished ? 1 : 0), "\(dels) DEL for \(key) (published: \(wasPublished)) in \(s)")
            #expect(sim.store.entries[key] == nil)
        }
        Self.report()
    }

    /// A batch Redis keeps refusing is written again after waits that start at the backoff's
    /// floor and double up to its cap (the law stated here, not asked of `Backoff`), measured on
    /// the virtual clock; no other batch goes out meanwhile, and the store converges after.
    @Test(replayingSeed) func refusedWritesBackOffByDoublingUpToTheCap() async {
        let counts = (refusals: Gen.int(in: 1...12), floor: Gen.int(in: 1...500), applied: Gen.int(in: 0...4))
        await propertyCheck(count: Self.cases, input: Self.input, counts.refusals, counts.floor, counts.applied) {
            values,
            refusals,
            floor,
            applied in
            let cap = floor * 8
            let s = Scenario(values)
            let backoff = Backoff(initialMilliseconds: floor, maximumMilliseconds: cap)
            var sim = s.run(config: ReconcilerConfig(batchSize: 4, batchDelayMilliseconds: 5, writeRetry: backoff))
            let key = Universe.keys[0]  // Ethernet0:10.0.0.1: published under every policy
            let (a, b) = (Universe.addresses[0], Universe.addresses[1])
            let mac = sim.kernel[key]?.linkLayerAddress == a ? b : a
            sim.kernelSet(key, KernelNeighbor(linkLayerAddress: mac, state: .reachable))
            sim.fire(.flush)
            guard let batch = sim.inFlight.first else {
                Issue.record("nothing written in \(s)")
                return
            }
            for n in 1...refusals {
                let refusedAt = sim.now
                let writes = sim.writes.count
                sim.refuseBatch(applied: applied)
                let wait = min(floor << (n - 1), cap)
                #expect(
                    sim.delays.last?.timer == .writeRetry && sim.delays.last?.milliseconds == wait,
                    "refusal \(n): \(String(describing: sim.delays.last)), not \(wait) ms, in \(s)"
                )
                sim.fire(.writeRetry)
                #expect(
                    sim.now - refusedAt == wait,
                    "refusal \(n): written again after \(sim.now - refusedAt) ms in \(s)"
                )
                #expect(sim.inFlight.map(\.id) == [batch.id] && sim.writes.count == writes, "refusal \(n) in \(s)")
            }
            sim.quiesce()
            #expect(sim.storeIsExpected, "\(sim) in \(s)")
            #expect(sim.violations.isEmpty, "\(sim.violations)")
        }
        Self.report()
    }

    /// Spec §12 over generated runs on a dual-ToR (the policy held; Redis restarts keep their
    /// data): with nbrmgrd popping at once, NEIGH_FAILED_TABLE ends holding exactly the rows found
    /// at boot, plus the key of each IPv6 RTM_NEWNEIGH in state FAILED the daemon read, minus the
    /// key of each RTM_DELNEIGH or valid-state RTM_NEWNEIGH it read later (link-local and ff02
    /// filtered first), minus the rows of neighbors a complete dump no longer held (the DELNEIGHs
    /// it did not read) — whatever the batching, the store outages, refusals and timers.
    @Test(replayingSeed) func failedTableFollowsTheMessagesRead() async {
        await propertyCheck(count: Self.cases, input: Self.input, Gen.int(in: 0...3)) { values, variant in
            var s = Scenario(values)
            s.policy = Universe.policies[1 + 2 * variant]  // dual-ToR, with or without EVPN and link-local
            s.actions = s.actions.compactMap {
                switch $0 {
                case .crash, .policy: nil
                case .storeDown: .storeDown(wipe: false)
                default: $0
                }
            }
            let sim = s.run()
            #expect(sim.violations.isEmpty, "\(sim.violations) in \(s)")
            #expect(
                sim.failedStore == sim.failedExpected,
                "rows \(sim.failedStore.sorted()) != \(sim.failedExpected.sorted()) after \(sim.failedLog) in \(s)"
            )
            #expect(sim.storeIsExpected, "NEIGH_TABLE not converged in \(s)")
        }
        Self.report()
    }

    /// The same table through crashes and Redis restarts that lose APPL_DB, in its level form: a
    /// FAILED neighbor has a row, a neighbor in a valid state or gone has none (what an instance
    /// had not written when it crashed is lost, as upstream loses it; INCOMPLETE and NONE keep
    /// whatever the last decisive message left).
    @Test(replayingSeed) func failedTableHoldsEveryFailedNeighborAndNoValidOrGoneOne() async {
        await propertyCheck(count: Self.cases, input: Self.input, Gen.int(in: 0...3)) { values, variant in
            var s = Scenario(values)
            s.policy = Universe.policies[1 + 2 * variant]
            s.actions = s.actions.filter { if case .policy = $0 { false } else { true } }
            let sim = s.run()
            #expect(sim.violations.isEmpty, "\(sim.violations) in \(s)")
            let valid: [NUDState] = [.permanent, .noarp, .reachable, .probe, .stale, .delay]
            for k in Universe.keys where k.ip.family == .ipv6 && !k.ip.isIPv6MulticastLinkLocal {
                if k.ip.isIPv6LinkLocal && !s.policy.isLinkLocalEnabled(on: k.interface) { continue }
                let state = sim.kernel[k]?.state
                if state == .failed {
                    #expect(sim.failedStore.contains(k), "FAILED \(k) has no row in \(s)")
                } else if state == nil || valid.contains(state!) {
                    #expect(!sim.failedStore.contains(k), "\(k) (\(String(describing: state))) has a row in \(s)")
                }
            }
        }
        Self.report()
    }

    @Test(replayingSeed) func shutdownFinishesTheBatchInFlightAndStartsNoOther() async {
        await propertyCheck(count: Self.cases, input: Self.input, Gen.int(in: 0...80)) { values, at in
            let s = Scenario(values)
            var sim = s.makeSimulator()
            sim.boot()
            for a in s.actions.prefix(at) where !a.isCrash { sim.perform(a) }
            let inFlight = sim.inFlight.count
            let before = sim.writes.count
            sim.send(.shutdownRequested)
            #expect((sim.exitCode == 0) == (inFlight == 0))
            for i in 0..<inFlight {
                if i > 0 { #expect(sim.exitCode == nil, "exit with a batch still in flight in \(s)") }
                sim.acknowledge()
            }
            if inFlight > 0, sim.storeUp { #expect(sim.exitCode == 0) }
            sim.storeGoesDown(wipe: false)
            #expect(sim.exitCode == 0, "no exit after shutdown in \(s)")
            #expect(sim.writes.count == before, "a batch was started after shutdown")
        }
        Self.report()
    }
}
