import Model
import RunTrace

@testable import Reconciler

/// A deterministic world around the pure core: a kernel, a store, a journal and a virtual
/// clock, all in memory. Actions drive the world; the core only sees events. Nothing here takes
/// an order from a `Set` or a `Dictionary`, so one generated scenario is one run in any process.
struct Simulator {
    // The outside world.
    var kernel: [NeighborKey: KernelNeighbor] = [:]
    var store = StoreSnapshot()
    /// NEIGH_FAILED_TABLE's rows, as nbrmgrd sees them when it pops at once.
    var failedStore: Set<NeighborKey> = []
    /// The rows spec §12 says should exist, from the messages the daemon read, in order: what
    /// upstream would leave (with nbrmgrd popping at once, so its existence check is the row's).
    var failedExpected: Set<NeighborKey> = []
    /// Every write in the order it reached Redis: `F` a NEIGH_FAILED_TABLE operation, `B` a batch.
    var wire: [(kind: Character, keys: [NeighborKey])] = []
    /// Every NEIGH_FAILED_TABLE operation written, in order.
    var failedLog: [FailedNeighborChange] = []
    var policy = Policy()
    var warmStart = false
    var restoreFlag = true

    // The daemon and what it asked for.
    var state: DaemonState
    var journal = JournalImage.empty
    var config: ReconcilerConfig
    /// Virtual milliseconds since boot: moves only when a timer fires.
    var now = 0
    /// Timers armed and not yet fired. Each fires at its deadline; timers due at the same time
    /// fire in the order they were armed.
    var timers: [ArmedTimer] = []
    var timersArmed = 0
    var armed: [TimerID] { timers.sorted { ($0.due, $0.sequence) < ($1.due, $1.sequence) }.map(\.timer) }
    /// Batches written and not yet answered, oldest first.
    var inFlight: [Batch] = []
    var dumpCursor: [NeighborKey]?
    /// The running dump delivered an entry older than a notification read before it.
    var dumpRaced = false
    var wantsStoreLoad = false
    /// The verifying read the daemon asked for and that has not finished.
    var verifyWanted: UInt64?
    /// The store when that read was asked for: the read runs on a connection of its own, so it may
    /// see the store as it was then, or as it is when it ends, or anything between.
    var verifyView = StoreSnapshot()
    /// Changes made to the store behind the daemon's back.
    var tampered = 0
    /// orchagent, once a `consumerPop` action ran (before that, every write is consumed at once):
    /// each key with an operation still pending, with its consumed value (nil: the consumed table
    /// lacks it). `store` is the table once everything is consumed; a key not here is consumed
    /// as `store` holds it.
    var pendingConsumed: [NeighborKey: StoredEntry?] = [:]
    var consumerLags = false
    /// The first part of the running verifying read, if taken (`verifyReadFirstPart`): the
    /// pending keys' values once consumed (the reader's order), or the consumed table (the old
    /// order, `readerReadsConsumedFirst`, which took the daemon's own writes popped in between
    /// for drift).
    var verifyPendingPart: [NeighborKey: StoredEntry?]?
    var verifyConsumedPart: StoreSnapshot?
    var readerReadsConsumedFirst = false
    /// The keys a verifying read found drifted since the last `storeReloaded` record: the
    /// journal's store view may hold their last acknowledged value rather than the value read.
    var driftedKeys: Set<NeighborKey> = []
    var driftedMalformedKeys: Set<String> = []
    /// `storeReloaded` journal records: a fresh read of the store, or a verification that found drift.
    var storeReloadRecords = 0
    var waitingForRestoreFlag = false
    var storeUp = true
    /// Messages the socket drops until the next overrun report.
    var lossy = false
    var exitCode: Int32?
    var warmStates: [WarmRestartState] = []
    var logs: [String] = []
    /// Every batch written, with the store as it was when the batch was emitted.
    var writes: [(batch: Batch, storeAtWrite: StoreSnapshot)] = []
    /// The phase each of `writes` was emitted in (`dumping`: written while the first dump ran).
    var phaseAtWrite: [Phase] = []
    /// Batches written again after Redis refused them.
    var rewrites: [Batch] = []
    var refusedIDs: Set<UInt64> = []
    var violations: [String] = []
    var dumpsRequested = 0
    /// Every timer armed, with its delay, in order.
    var delays: [(timer: TimerID, milliseconds: Int)] = []
    /// Every timer fired, with the virtual time, in order.
    var fired: [(timer: TimerID, at: Int)] = []
    /// Every event fed and every effect returned, in order, when a test asks for it.
    var trace: TraceHash?

    init(config: ReconcilerConfig = ReconcilerConfig(batchSize: 4, batchDelayMilliseconds: 5)) {
        self.config = config
        state = DaemonState(config: config)
    }

    // MARK: driving the core

    mutating func send(_ e: Event) {
        guard exitCode == nil else { return }
        let phaseBefore = state.phase
        let dumpRunning = state.dumpView != nil
        if case .kernelMessage(let m) = e, [.dumping, .awaitingReconcileTimer, .steady].contains(phaseBefore) {
            Self.expectFailedTable(m, policy: state.policy, &failedExpected)
        }
        let actualBefore: StoreSnapshot? = if case .storeVerified = e { state.actual } else { nil }
        let effects = step(&state, e)
        if let actualBefore { noteDrift(from: actualBefore) }
        if case .kernelDumpDone(interrupted: false) = e, dumpRunning, state.policy.dualToR {
            // A complete dump stands for the DELNEIGHs not read: rows of neighbors it lacks go.
            failedExpected = failedExpected.filter { state.kernel[$0] != nil }
        }
        if trace != nil {
            trace?.add("\(now) event \(canonical(e))")
            for eff in effects { trace?.add("effect \(canonical(eff))") }
        }
        for eff in effects { carryOut(eff, phaseBefore: phaseBefore) }
        if state.phase != .starting && !journalAgreesWithState {
            violations.append("journal actual diverged from state after \(e)")
        }
        if state.desiredCount != state.desiredEntries.count {
            violations.append("desiredCount \(state.desiredCount) != \(state.desiredEntries.count) after \(e)")
        }
    }

    /// The journal's store view is the state's, but on keys found drifted (drift is not
    /// journaled; the repairs' acknowledgements are).
    var journalAgreesWithState: Bool {
        if state.actual == journal.actual { return true }
        let keys = Set(state.actual.entries.keys).union(journal.actual.entries.keys).subtracting(driftedKeys)
        return keys.allSatisfy { state.actual.entries[$0] == journal.actual.entries[$0] }
            && state.actual.malformedKeys.subtracting(driftedMalformedKeys)
                == journal.actual.malformedKeys.subtracting(driftedMalformedKeys)
    }

    /// Notes the keys a verifying read changed in `actual` (rare: compared only for that event).
    mutating func noteDrift(from before: StoreSnapshot) {
        guard before != state.actual else { return }
        for k in Set(before.entries.keys).union(state.actual.entries.keys)
        where before.entries[k] != state.actual.entries[k] {
            driftedKeys.insert(k)
        }
        driftedMalformedKeys.formUnion(before.malformedKeys.symmetricDifference(state.actual.malformedKeys))
    }

    mutating func carryOut(_ eff: Effect, phaseBefore: Phase) {
        switch eff {
        case .setWarmRestartState(let s): warmStates.append(s)
        case .loadStore: wantsStoreLoad = true
        case .verifyStore(let id):
            // One the core gave up on (the store was lost or read again meanwhile) is replaced.
            if state.phase != .steady { violations.append("verifying read in phase \(state.phase)") }
            verifyWanted = id
            verifyView = store
            (verifyPendingPart, verifyConsumedPart) = (nil, nil)
        case .waitForRestoreFlag: waitingForRestoreFlag = true
        case .requestKernelDump:
            dumpsRequested += 1
            dumpCursor = kernel.keys.sorted()
        case .write(let b):
            if inFlight.count >= config.batchesInFlight {
                violations.append("batch \(b.id) while \(inFlight.count) are in flight")
            }
            let busy = Set(inFlight.flatMap { $0.changes.map(\.keyText) })
            if b.changes.contains(where: { busy.contains($0.keyText) }) {
                violations.append("batch \(b.id) shares a key with a batch in flight")
            }
            // A cold start's first dump may write SETs once the store is read; nothing else writes.
            let overlapping = state.phase == .dumping && !state.warmStart && state.storeReady
            if state.phase != .steady && state.phase != .stopping && !overlapping {
                violations.append("write in phase \(state.phase)")
            }
            if overlapping && !b.changes.allSatisfy(\.isSet) { violations.append("DEL before the dump completed") }
            if !storeUp { violations.append("write while the store is down") }
            if b.changes.count > config.batchSize {
                violations.append("batch of \(b.changes.count) > \(config.batchSize)")
            }
            if Set(b.changes.map(\.keyText)).count != b.changes.count {
                violations.append("two operations on one key in batch \(b.id)")
            }
            inFlight.append(b)
            // A batch written again after a refusal is the same batch, not a new write: it may
            // repeat what a script that failed half-way applied.
            if refusedIDs.contains(b.id) {
                rewrites.append(b)
            } else {
                writes.append((b, store))
                phaseAtWrite.append(state.phase)
            }
            wire.append(("B", b.changes.compactMap { NeighborKey($0.keyText) }))
        case .removeHostRoute: break
        case .writeFailedNeighbors(let changes):
            if !storeUp { violations.append("NEIGH_FAILED_TABLE written while the store is down") }
            for c in changes {
                if case .set(let k) = c { failedStore.insert(k) } else { failedStore.remove(c.key) }
            }
            wire.append(("F", changes.map(\.key)))
            failedLog += changes
        case .journal(let r):
            if case .storeReloaded = r {
                storeReloadRecords += 1
                (driftedKeys, driftedMalformedKeys) = ([], [])
            }
            journal.apply(r)
        case .armTimer(let t, let ms):
            // Re-arming replaces the deadline (Effect.armTimer).
            timers.removeAll { $0.timer == t }
            timers.append(ArmedTimer(timer: t, due: now + ms, sequence: timersArmed))
            timersArmed += 1
            delays.append((t, ms))
        case .log(_, let line): logs.append(line)
        case .exit(let code): exitCode = code
        }
    }

    // MARK: the world's actions

    /// The kernel changes one neighbor (NEWNEIGH).
    mutating func kernelSet(_ key: NeighborKey, _ n: KernelNeighbor) {
        kernel[key] = n
        notify(.newNeighbor, key, n)
    }

    /// `ip neigh del`: the kernel reports FAILED, then DELNEIGH.
    mutating func kernelDelete(_ key: NeighborKey) {
        guard let n = kernel.removeValue(forKey: key) else { return }
        notify(.newNeighbor, key, KernelNeighbor(linkLayerAddress: .absent, state: .failed, flags: n.flags))
        notify(.deleteNeighbor, key, KernelNeighbor(linkLayerAddress: .absent, state: .failed, flags: n.flags))
    }

    mutating func notify(_ type: NeighborMessageType, _ key: NeighborKey, _ n: KernelNeighbor) {
        guard !lossy, subscribed else { return }
        send(.kernelMessage(NeighborMessage(type, key, n)))
    }

    var subscribed: Bool { state.counters.dumps > 0 && exitCode == nil }

    /// The socket overflows: notifications are lost until the reader reports ENOBUFS.
    mutating func beginOverrun() { if subscribed { lossy = true } }

    mutating func reportOverrun() {
        guard lossy else { return }
        lossy = false
        send(.kernelOverrun)
    }

    /// The kernel refuses the running dump (an NLMSG_ERROR such as ENOBUFS answers its request):
    /// no entry and no NLMSG_DONE of it will come.
    mutating func refuseDump() {
        guard dumpCursor != nil else { return }
        dumpCursor = nil
        dumpRaced = false
        send(.kernelDumpFailed(reason: "No buffer space available"))
    }

    /// The kernel reads `key` into a dump datagram, then changes it and notifies the change before
    /// that datagram is queued: the dump's entry, read after the notification, is the older state.
    /// The observer sees a dump entry after a notification of the same neighbor and says so.
    mutating func raceDump(_ key: NeighborKey, _ n: KernelNeighbor) {
        guard var cursor = dumpCursor, subscribed, let old = kernel[key] else { return }
        cursor.removeAll { $0 == key }  // read into the datagram: the dump will not read it again
        dumpCursor = cursor
        kernelSet(key, n)
        send(.kernelMessage(NeighborMessage(.newNeighbor, key, old)))
        dumpRaced = true
    }

    /// Delivers up to `n` dump entries (as the kernel has them now), then NLMSG_DONE at the end.
    mutating func dumpChunk(_ n: Int) {
        guard var cursor = dumpCursor else { return }
        var sent = 0
        while sent < n, !cursor.isEmpty {
            let k = cursor.removeFirst()
            if let v = kernel[k] {
                dumpCursor = cursor
                send(.kernelMessage(NeighborMessage(.newNeighbor, k, v)))
                sent += 1
            }
        }
        dumpCursor = cursor
        if cursor.isEmpty {
            dumpCursor = nil
            if dumpRaced {
                dumpRaced = false
                send(.kernelDumpRaced)
            }
            send(.kernelDumpDone(interrupted: false))
        }
    }

    mutating func acknowledge() {
        guard !inFlight.isEmpty else { return }
        let b = inFlight.removeFirst()
        applyToStore(b)
        send(.batchAcknowledged(id: b.id))
    }

    /// Connection lost mid-batch: a prefix of the batch may have reached Redis.
    /// Redis applies what it received in order, so the prefix runs across the batches in flight.
    mutating func failBatch(applied prefix: Int) {
        guard let b = inFlight.first else { return }
        applyPrefixOfInFlight(prefix)
        storeUp = false
        send(.batchFailed(id: b.id, reason: "connection reset"))
    }

    /// The first `n` changes of the batches in flight reach the store; the batches are gone.
    mutating func applyPrefixOfInFlight(_ n: Int) {
        let changes = inFlight.flatMap(\.changes).prefix(n)
        applyToStore(Batch(id: inFlight.first?.id ?? 0, changes: Array(changes)))
        inFlight = []
    }

    /// Redis answers the oldest batch in flight with an error reply (OOM, WRONGTYPE): the
    /// connection stays up. A script that failed half-way leaves its first changes applied.
    mutating func refuseBatch(applied prefix: Int) {
        guard !inFlight.isEmpty else { return }
        let b = inFlight.removeFirst()
        applyToStore(Batch(id: b.id, changes: Array(b.changes.prefix(prefix))))
        refusedIDs.insert(b.id)
        send(.batchRefused(id: b.id, reason: "OOM command not allowed when used memory > 'maxmemory'."))
    }

    mutating func storeGoesDown(wipe: Bool) {
        inFlight = []  // the replies never come; Redis may or may not have applied them
        storeUp = false
        if wipe {
            store = StoreSnapshot()
            pendingConsumed = [:]
            failedStore = []
        }
        send(.storeUnavailable)
    }

    mutating func storeComesUp() {
        storeUp = true
        completeStoreRead()
    }

    /// The read the daemon asked for finishes (it runs alongside everything else).
    mutating func completeStoreRead() {
        guard storeUp, wantsStoreLoad else { return }
        wantsStoreLoad = false
        // As the shell: NEIGH_FAILED_TABLE is read only on a dual-ToR.
        send(.storeLoaded(store, failedNeighbors: state.policy.dualToR ? failedStore : nil))
    }

    /// Redis applies a write: its operations are pending for orchagent (once it lags).
    mutating func applyToStore(_ b: Batch) {
        if consumerLags {
            for c in b.changes {
                switch c {
                case .set(let k, _), .del(let k):
                    if pendingConsumed.index(forKey: k) == nil { pendingConsumed[k] = .some(store.entries[k]) }
                case .delMalformed: break
                }
            }
        }
        store.apply(b)
    }

    /// The consumed table: `store` but for the keys still pending.
    var consumed: StoreSnapshot {
        var c = store
        for (k, v) in pendingConsumed { c.entries[k] = v }
        return c
    }

    /// orchagent pops `n` pending keys (in key order: any order is one it may take).
    mutating func consumerPop(_ n: Int) {
        consumerLags = true
        for k in pendingConsumed.keys.sorted().prefix(n) { pendingConsumed.removeValue(forKey: k) }
    }

    /// The keys still pending, each with its value once consumed.
    var eventualPending: [NeighborKey: StoredEntry?] {
        Dictionary(uniqueKeysWithValues: pendingConsumed.keys.map { ($0, store.entries[$0]) })
    }

    /// The verifying read takes its first part now (it runs beside the writes and the pops).
    mutating func verifyReadFirstPart() {
        guard verifyWanted != nil, verifyPendingPart == nil, verifyConsumedPart == nil else { return }
        if readerReadsConsumedFirst {
            verifyConsumedPart = consumed
        } else {
            verifyPendingPart = eventualPending
        }
    }

    /// The verifying read finishes: it saw the store as it is now (or, `early`, as it was when the
    /// read was asked for), or fails if Redis is down. Not early, it is the reader's two parts:
    /// the pending keys as of its first part, the rest of the consumed table as of now.
    mutating func completeVerifyRead(early: Bool = false) {
        guard let id = verifyWanted else { return }
        verifyWanted = nil
        var view = early ? verifyView : consumed
        if !early && readerReadsConsumedFirst {
            view = verifyConsumedPart ?? consumed
            view.malformedKeys = store.malformedKeys
            for k in pendingConsumed.keys { view.entries[k] = store.entries[k] }
        } else if !early {
            for (k, v) in verifyPendingPart ?? eventualPending { view.entries[k] = v }
        }
        (verifyPendingPart, verifyConsumedPart) = (nil, nil)
        send(storeUp ? .storeVerified(id: id, view) : .storeVerifyFailed(id: id, reason: "connection refused"))
    }

    /// Someone else writes NEIGH_TABLE (a script, an operator, a bug): a key's entry changes or
    /// goes, or a key the daemon never wrote appears, well-formed or not.
    mutating func tamper(_ v: UInt32) {
        guard storeUp else { return }
        tampered += 1
        let key = Universe.key(v >> 3)
        // A key with an operation pending: the other writer changes the consumed value, which
        // the pending operation overrides when popped (a SET's fields over it, or a DEL).
        if v % 4 < 3, pendingConsumed.index(forKey: key) != nil {
            pendingConsumed[key] = v % 4 == 0 ? .some(nil) : .some(Universe.storedEntry(v >> 8, for: key))
            return
        }
        switch v % 4 {
        case 0: store.entries.removeValue(forKey: key)
        case 1, 2: store.entries[key] = Universe.storedEntry(v >> 8, for: key)
        default: store.malformedKeys.insert("bogus\((v >> 2) % 3)")
        }
    }

    /// Time passes until `t` fires (if it is armed): every timer due before it fires first.
    mutating func fire(_ t: TimerID) {
        while let target = timers.first(where: { $0.timer == t }), let next = nextTimer,
            (next.due, next.sequence) <= (target.due, target.sequence)
        {
            fireNext()
            if next.timer == t { return }
        }
    }

    var nextTimer: ArmedTimer? { timers.min { ($0.due, $0.sequence) < ($1.due, $1.sequence) } }

    /// The clock moves to the earliest deadline and that timer fires.
    mutating func fireNext() {
        guard let next = nextTimer else { return }
        timers.removeAll { $0.sequence == next.sequence }
        now = max(now, next.due)
        fired.append((next.timer, now))
        send(.timerFired(next.timer))
    }

    mutating func changePolicy(_ p: Policy) {
        policy = p
        send(.policyChanged(p))
    }

    /// kill -9: in-flight work is lost on our side (Redis may or may not have it); the journal stays.
    mutating func crash(appliedPrefix: Int) {
        applyPrefixOfInFlight(appliedPrefix)
        timers = []
        dumpCursor = nil
        wantsStoreLoad = false
        verifyWanted = nil
        waitingForRestoreFlag = false
        lossy = false
        exitCode = nil
        state = DaemonState(config: config, replaying: journal)
        boot()
    }

    mutating func boot() {
        send(.started(StartupConfig(warmStart: warmStart, reconcileTimerSeconds: 5, policy: policy)))
    }

    mutating func restoreFlagCheck() {
        guard waitingForRestoreFlag, restoreFlag else { return }
        waitingForRestoreFlag = false
        send(.restoreFlagSet)
    }

    /// Runs everything pending to completion: store up, flag set, dumps delivered, timers fired,
    /// batches acknowledged. Bounded, so a livelock shows up as a violation.
    mutating func quiesce() {
        reportOverrun()  // the kernel always reports a lost notification on the next read
        if !storeUp { storeComesUp() }
        for _ in 0..<100_000 {
            if exitCode != nil { return }
            if wantsStoreLoad {
                storeComesUp()
                continue
            }
            if verifyWanted != nil {
                completeVerifyRead()
                continue
            }
            if !pendingConsumed.isEmpty {
                consumerPop(pendingConsumed.count)
                continue
            }
            if waitingForRestoreFlag {
                restoreFlag = true
                restoreFlagCheck()
                continue
            }
            if dumpCursor != nil {
                dumpChunk(1_000)
                continue
            }
            if !inFlight.isEmpty {
                acknowledge()
                continue
            }
            // The periodic verification alone is not work left to do.
            if nextTimer != nil, timers.contains(where: { $0.timer != .verify }) {
                fireNext()
                continue
            }
            return
        }
        violations.append("did not quiesce")
    }

    /// What the store must hold: the kernel through the decision procedure under the policy.
    var expectedStore: [NeighborKey: NeighborEntry] {
        var d: [NeighborKey: NeighborEntry] = [:]
        for (k, n) in kernel { if let e = desiredEntry(for: k, n, policy: policy) { d[k] = e } }
        return d
    }

    /// Spec §12 stated on its own (not through the core's `failedNeighborRule`): on a dual-ToR, an
    /// IPv6 key that passes the link-local and ff02 filters gets a row from a NEWNEIGH in state
    /// exactly FAILED, and loses it to a DELNEIGH or a NEWNEIGH in a valid state.
    static func expectFailedTable(_ m: NeighborMessage, policy: Policy, _ rows: inout Set<NeighborKey>) {
        guard policy.dualToR, let key = m.key, key.ip.family == .ipv6 else { return }
        let del = m.type == .deleteNeighbor
        if key.ip.isIPv6LinkLocal && !del && !policy.isLinkLocalEnabled(on: key.interface) { return }
        if key.ip.isIPv6MulticastLinkLocal { return }
        let valid: [NUDState] = [.permanent, .noarp, .reachable, .probe, .stale, .delay]
        if m.type == .newNeighbor && m.state == .failed {
            rows.insert(key)
        } else if del || (m.type == .newNeighbor && valid.contains(m.state)) {
            rows.remove(key)
        }
    }

    var storeIsExpected: Bool {
        store.malformedKeys.isEmpty && store == StoreSnapshot(valid: expectedStore)
    }
}

/// A timer the daemon armed: it fires at `due`, after those armed before it for the same time.
struct ArmedTimer {
    var timer: TimerID
    var due: Int
    var sequence: Int
}

extension Simulator: CustomStringConvertible {
    var description: String {
        "Simulator(phase: \(state.phase), kernel: \(kernel.count), store: \(store.entries.count), expected: "
            + "\(expectedStore.count), pending: \(state.pendingCount), inFlight: \(inFlight.map(\.id)), armed: "
            + "\(armed), logs: \(logs.suffix(4)))"
    }
}
