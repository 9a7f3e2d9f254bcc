import Model
import PropertyBased
import PropertySeed
import Testing

@testable import Reconciler

/// Writes overlapping the first dump (docs/state-machine.md, "Writes overlapping the first dump"):
/// a cold or crash start writes the SETs its dump calls for while the dump goes on, once the
/// store is read; DELs, and everything of a warm start, wait for the complete dump.
@Suite struct DumpOverlapTests {
    static let overlapping = ReconcilerConfig(batchSize: 4, batchDelayMilliseconds: 5)
    static let waiting = ReconcilerConfig(batchSize: 4, batchDelayMilliseconds: 5, writesOverlapDump: false)
    /// For the properties: batches of 2, so that the few publishable keys fill some during the dump.
    static let smallBatches = ReconcilerConfig(batchSize: 2, batchDelayMilliseconds: 5)

    static func reachable(_ i: Int) -> KernelNeighbor {
        KernelNeighbor(linkLayerAddress: .mac(MACAddress(rawValue: UInt64(i + 1))), state: .reachable)
    }

    static func key(_ i: Int) -> NeighborKey { NeighborKey("Ethernet0:10.0.0.\(i + 1)")! }

    /// A world of `count` reachable neighbors, with the store already read (empty) and the dump asked for.
    static func coldStart(count: Int, config: ReconcilerConfig = overlapping, warm: Bool = false) -> Simulator {
        var sim = Simulator(config: config)
        sim.warmStart = warm
        for i in 0..<count { sim.kernel[key(i)] = reachable(i) }
        sim.boot()
        sim.completeStoreRead()
        sim.restoreFlagCheck()
        return sim
    }

    static func keysWritten(_ sim: Simulator) -> [String] {
        sim.writes.flatMap { $0.batch.changes.map(\.keyText) }
    }

    @Test func coldStartWritesFullBatchesOfSetsBeforeTheDumpEnds() {
        var sim = Self.coldStart(count: 10)
        sim.dumpChunk(5)
        #expect(sim.state.phase == .dumping)
        #expect(sim.writes.map(\.batch.changes.count) == [4], "\(sim.writes.map(\.batch))")
        sim.acknowledge()
        sim.dumpChunk(4)
        #expect(sim.state.phase == .dumping)
        #expect(sim.writes.map(\.batch.changes.count) == [4, 4], "\(sim.writes.map(\.batch))")
        #expect(sim.writes.allSatisfy { $0.batch.changes.allSatisfy(\.isSet) })
        sim.quiesce()
        #expect(sim.storeIsExpected)
        #expect(Self.keysWritten(sim).count == 10, "each key once: \(Self.keysWritten(sim))")
        #expect(sim.logs.contains("first dump: 10 set queued while it ran"), "\(sim.logs)")
        #expect(sim.violations.isEmpty, "\(sim.violations)")
    }

    /// The read may end after part of the dump: what the dump said so far goes out then.
    @Test func aStoreReadEndingDuringTheDumpWritesWhatTheDumpSaidSoFar() {
        var sim = Simulator(config: Self.overlapping)
        for i in 0..<10 { sim.kernel[Self.key(i)] = Self.reachable(i) }
        sim.boot()
        sim.dumpChunk(6)
        #expect(sim.writes.isEmpty, "written before the store was read")
        sim.completeStoreRead()
        #expect(sim.state.phase == .dumping)
        #expect(sim.writes.map(\.batch.changes.count) == [4], "\(sim.writes.map(\.batch))")
        sim.quiesce()
        #expect(sim.storeIsExpected && sim.violations.isEmpty, "\(sim.violations)")
    }

    @Test func withTheOverlapOffNothingIsWrittenBeforeTheDumpEnds() {
        var sim = Self.coldStart(count: 10, config: Self.waiting)
        sim.dumpChunk(9)
        #expect(sim.writes.isEmpty)
        sim.quiesce()
        #expect(sim.storeIsExpected)
    }

    @Test func aWarmStartWritesNothingBeforeTheDumpCompletes() {
        var sim = Self.coldStart(count: 10, warm: true)
        #expect(sim.state.phase == .dumping)
        sim.dumpChunk(9)
        #expect(sim.writes.isEmpty, "\(sim.writes.map(\.batch))")
        sim.dumpChunk(1)
        #expect(sim.state.phase == .awaitingReconcileTimer && sim.writes.isEmpty)
        sim.quiesce()
        #expect(sim.storeIsExpected)
    }

    /// Redis refuses a batch written during the dump: it is written again when the backoff ends,
    /// in the dump or after it (before: the retry timer was ignored outside steady, and the
    /// refused batch blocked every later write).
    @Test(arguments: [false, true]) func aBatchRefusedDuringTheDumpIsWrittenAgain(retryAfterTheDump: Bool) {
        var sim = Self.coldStart(count: 6)
        sim.dumpChunk(4)
        let batch = sim.inFlight.first
        #expect(batch != nil && sim.state.phase == .dumping)
        sim.refuseBatch(applied: 1)
        if retryAfterTheDump { sim.dumpChunk(2) }
        sim.fire(.writeRetry)
        #expect(sim.rewrites.map(\.id) == [batch?.id], "\(sim.rewrites)")
        sim.quiesce()
        #expect(sim.storeIsExpected && sim.violations.isEmpty, "\(sim) \(sim.violations)")
    }

    /// A stale store key, and a key deleted during the dump after its SET went out: both DELs
    /// wait for the dump's end.
    @Test func delsWaitForTheCompleteDump() {
        var sim = Simulator(config: Self.overlapping)
        let stale = NeighborKey("Ethernet4:10.9.9.9")!
        sim.store.entries[stale] = .valid(NeighborEntry(mac: MACAddress(rawValue: 7), family: .ipv4))
        for i in 0..<8 { sim.kernel[Self.key(i)] = Self.reachable(i) }
        sim.boot()
        sim.completeStoreRead()
        sim.dumpChunk(4)
        sim.acknowledge()
        #expect(sim.store.entries[Self.key(0)] != nil, "no SET during the dump: \(sim.writes.map(\.batch))")
        sim.kernelDelete(Self.key(0))
        sim.dumpChunk(3)
        #expect(sim.state.phase == .dumping)
        #expect(sim.writes.allSatisfy { $0.batch.changes.allSatisfy(\.isSet) }, "\(sim.writes.map(\.batch))")
        let duringDump = sim.writes.count
        sim.dumpChunk(1)
        #expect(sim.state.phase == .steady)
        sim.quiesce()
        let dels = sim.writes.dropFirst(duringDump).flatMap(\.batch.changes).filter { !$0.isSet }
        #expect(Set(dels.map(\.keyText)) == [stale.description, Self.key(0).description], "\(dels)")
        #expect(sim.storeIsExpected && sim.violations.isEmpty, "\(sim.violations)")
    }

    /// The actions of a start while its first dump runs: dump chunks, notifications, replies,
    /// the store read and timers; with `faults`, also refused and failed batches and lost stores
    /// (the crash property adds crashes).
    static func dumpWindow(_ values: [UInt32], faults: Bool = false) -> [Action] {
        values.map { v in
            let a = v >> 5
            if faults && v % 7 == 0 {
                switch a % 3 {
                case 0: return .refuseBatch(applied: Int(a % 5))
                case 1: return .failBatch(applied: Int(a % 5))
                default: return .storeDown(wipe: a & 4 != 0)
                }
            }
            switch v % 10 {
            case 0, 1, 2: return .dumpChunk(Int(a % 5) + 1)
            case 3, 4: return .kernelSet(Universe.key(a), Universe.neighbor(a >> 5))
            case 5: return .kernelDelete(Universe.key(a))
            case 6, 7: return .acknowledge
            case 8: return .storeRead
            default: return .fire(a & 1 == 0 ? .flush : .writeRetry)
            }
        }
    }

    /// Boots a cold start and performs `actions` while the first dump runs, then lets it finish.
    /// Returns the world and the keys a notification named during the dump.
    static func runDumpWindow(_ s: Scenario, _ actions: [Action], config: ReconcilerConfig) -> (Simulator, Set<String>)
    {
        var sim = s.makeSimulator(config: config)
        sim.warmStart = false
        sim.boot()
        var notified: Set<String> = []
        for a in actions {
            guard sim.state.phase == .dumping else { break }
            switch a {
            case .kernelSet(let k, _), .kernelDelete(let k): notified.insert(k.description)
            default: break
            }
            sim.perform(a)
        }
        sim.quiesce()
        return (sim, notified)
    }

    /// The minimality the overlap keeps, against the same run with the overlap off: the same final
    /// store (the desired view); every write changes the store; a key no notification named
    /// during the dump gets exactly the writes it gets without the overlap; any other key gets at
    /// most one SET during the dump and at most two writes in all (the run without the overlap
    /// writes it at most once); and every key written without the overlap is written with it.
    @Test(replayingSeed) func overlappingWritesEndTheSameAndStayMinimal() async {
        await propertyCheck(count: PropertyTests.cases, input: PropertyTests.input, PropertyTests.input) {
            values,
            window in
            let s = Scenario(values)
            // Mostly a store read before the dump's first entry, as on an empty APPL_DB.
            let actions =
                (window.first ?? 0) % 4 == 0 ? Self.dumpWindow(window) : [.storeRead] + Self.dumpWindow(window)
            let on = Self.smallBatches
            var off = on
            off.writesOverlapDump = false
            let (overlap, notified) = Self.runDumpWindow(s, actions, config: on)
            let (plain, _) = Self.runDumpWindow(s, actions, config: off)
            #expect(overlap.violations.isEmpty && plain.violations.isEmpty, "\(overlap.violations) in \(s)")
            #expect(overlap.storeIsExpected && overlap.store == plain.store, "\(overlap.store) in \(s), \(actions)")
            for (batch, before) in overlap.writes {
                for c in batch.changes {
                    switch c {
                    case .set(let k, let e): #expect(before.entries[k] != .valid(e), "SET \(k) equal to the store")
                    case .del(let k): #expect(before.entries[k] != nil, "DEL of absent \(k) in \(s)")
                    case .delMalformed(let raw): #expect(before.malformedKeys.contains(raw))
                    }
                }
            }
            func byKey(_ sim: Simulator, duringDump: Bool = false) -> [String: [Change]] {
                var m: [String: [Change]] = [:]
                for (w, phase) in zip(sim.writes, sim.phaseAtWrite) where !duringDump || phase == .dumping {
                    for c in w.batch.changes { m[c.keyText, default: []].append(c) }
                }
                return m
            }
            let (o, p, early) = (byKey(overlap), byKey(plain), byKey(overlap, duringDump: true))
            for key in Set(o.keys).union(p.keys) {
                if notified.contains(key) {
                    #expect((o[key]?.count ?? 0) <= 2 && (early[key]?.count ?? 0) <= 1, "\(key): \(o[key]!) in \(s)")
                    #expect(p[key] == nil || o[key] != nil, "\(key) written only without the overlap in \(s)")
                } else {
                    #expect(o[key] == p[key], "\(key): \(o[key] ?? []) != \(p[key] ?? []) in \(s), \(actions)")
                }
            }
        }
        PropertyTests.report()
    }

    /// A crash anywhere during an overlapping cold start (with any prefix of the batches in flight
    /// applied), among refused and failed batches and lost stores, then a start from the journal:
    /// the store ends as the desired view.
    @Test(replayingSeed) func crashDuringAnOverlappingDumpConverges() async {
        let at = Gen.int(in: 0...80)
        let applied = Gen.int(in: 0...8)
        await propertyCheck(count: PropertyTests.cases, input: PropertyTests.input, PropertyTests.input, at, applied) {
            values,
            window,
            at,
            applied in
            let s = Scenario(values)
            var actions = [Action.storeRead] + Self.dumpWindow(window, faults: true)
            actions.insert(.crash(applied: applied), at: min(at, actions.count))
            var sim = s.makeSimulator(config: Self.smallBatches)
            sim.warmStart = false
            sim.boot()
            for a in actions { sim.perform(a) }
            sim.quiesce()
            #expect(sim.violations.isEmpty, "\(sim.violations) in \(s), \(actions)")
            #expect(sim.storeIsExpected, "store \(sim.store) != \(sim.expectedStore) in \(s), \(actions)")
            #expect(sim.state.phase == .steady)
        }
        PropertyTests.report()
    }
}
