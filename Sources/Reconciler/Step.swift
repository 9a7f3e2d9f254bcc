import Model

/// The daemon's state machine: consume one event, change the state, return what to do.
/// Pure: no I/O, no clock, no randomness. See docs/state-machine.md.
public func step(_ state: inout DaemonState, _ event: Event) -> [Effect] {
    var out: [Effect] = []
    state.handle(event, &out)
    return out
}

extension DaemonState {
    mutating func handle(_ event: Event, _ out: inout [Effect]) {
        switch event {
        case .started(let cfg): started(cfg, &out)
        case .storeLoaded(let snapshot, let failed): storeLoaded(snapshot, failedNeighbors: failed, &out)
        case .storeUnavailable: storeLost(reason: "store unavailable", &out)
        case .storeVerified(let id, let read): storeVerified(id: id, read, &out)
        case .storeVerifyFailed(let id, let reason): storeVerifyFailed(id: id, reason: reason, &out)
        case .storeKeysTouched(let keys, let overflow): storeKeysTouched(keys, overflow: overflow, &out)
        case .restoreFlagSet:
            guard phase == .awaitingRestoreFlag else { return }
            out.append(.log(.notice, "restore flag set; dumping the kernel neighbor table"))
            beginDump(&out)
        case .restoreWaitTimedOut:
            guard phase == .awaitingRestoreFlag else { return }
            phase = .stopped
            out.append(.log(.error, "NEIGH_RESTORE_TABLE|Flags restored not set in time; exiting"))
            out.append(.exit(code: 1))
        case .kernelMessage(let m): kernelMessage(m, &out)
        case .kernelDumpDone(let interrupted): dumpDone(interrupted: interrupted, &out)
        case .kernelOverrun:
            guard kernelObserved else { return }
            counters.overruns += 1
            out.append(.log(.warning, "netlink receive buffer overrun: neighbor notifications lost; re-dumping"))
            requestRedump(&out)
        case .kernelDumpFailed(let reason): dumpFailed(reason: reason, &out)
        case .kernelDumpRaced:
            guard dumpView != nil else { return }
            counters.dumpsRaced += 1
            out.append(.log(.info, "kernel neighbor dump raced a notification of the same neighbor; dumping again"))
            requestRedump(&out)
        case .linksChanged:
            guard kernelObserved else { return }
            requestRedump(&out)
        case .policyChanged(let p): policyChanged(p, &out)
        case .timerFired(let t): timerFired(t, &out)
        case .batchAcknowledged(let id): batchAcknowledged(id, &out)
        case .batchFailed(let id, let reason):
            guard inFlight.contains(where: { $0.id == id }) else { return }
            counters.batchesFailed += 1
            storeLost(reason: "batch \(id) failed: \(reason)", &out)
        case .batchRefused(let id, _): batchRefused(id, &out)
        case .shutdownRequested:
            guard phase != .stopped else { return }
            // Batches Redis refused are not waited for: the journal keeps them in flight.
            if !repliesAwaited {
                finish(&out)
            } else {
                phase = .stopping
                // Kernel messages are no longer read: a dump still running would end incomplete.
                (dumpView, dumpMasters, overrunDuringDump, redumpWanted) = (nil, [:], false, false)
                out.append(
                    .log(
                        .notice,
                        "shutdown requested; finishing batch \(inFlight.map { String($0.id) }.joined(separator: ", "))"
                    )
                )
            }
        }
    }

    /// The netlink socket is subscribed: messages, overruns and link changes mean something.
    private var kernelObserved: Bool {
        switch phase {
        case .dumping, .awaitingReconcileTimer, .steady: return true
        default: return false
        }
    }

    // MARK: start-up

    private mutating func started(_ cfg: StartupConfig, _ out: inout [Effect]) {
        guard phase == .starting else { return }
        warmStart = cfg.warmStart
        reconcileTimerSeconds = cfg.reconcileTimerSeconds
        policy = cfg.policy
        if warmStart {
            out.append(.log(.notice, "warm start; reconcile timer \(reconcileTimerSeconds) s"))
            out.append(.setWarmRestartState(.initialized))
        } else {
            out.append(.log(.notice, "cold start"))
        }
        // The store is read while the start goes on: nothing needs it before the first write,
        // which waits for `storeReady`.
        out.append(.loadStore(clearingPending: warmStart))
        if warmStart {
            phase = .awaitingRestoreFlag
            out.append(.waitForRestoreFlag)
        } else {
            beginDump(&out)
        }
    }

    private mutating func storeLoaded(
        _ snapshot: StoreSnapshot,
        failedNeighbors: Set<NeighborKey>?,
        _ out: inout [Effect]
    ) {
        guard phase != .starting, phase != .stopped else { return }
        abandonVerification()
        actual = snapshot
        storeReady = true
        counters.storeReloads += 1
        // Before any NEIGH_TABLE write this read allows: the failed-table operations of messages
        // that came while the store could not be written precede those messages' NEIGH_TABLE ops.
        let failed = failedTable.storeLoaded(present: failedNeighbors)
        if !failed.isEmpty { out.append(.writeFailedNeighbors(failed)) }
        out.append(.journal(.storeReloaded(snapshot)))
        if warmStart && counters.storeReloads == 1 { out.append(.setWarmRestartState(.restored)) }
        switch phase {
        case .awaitingReconcileTimer where reconcileDue:
            reconcile(&out)
        case .steady:
            resync(&out)
        case .dumping:
            writeDumpedSets(&out)
        default:
            break  // the diff is taken when the phase reaches steady
        }
    }

    /// The store's content is unknown until it is read again.
    private mutating func storeLost(reason: String, _ out: inout [Effect]) {
        let wasReady = storeReady
        storeReady = false
        abandonVerification()
        awaitingRetry = []
        refusalStreak = 0
        if !inFlight.isEmpty {
            let lost = inFlight
            inFlight = []
            inFlightKeys = []
            inFlightMalformedKeys = []
            for b in lost { for c in b.changes { requeue(c) } }
            out.append(
                .log(
                    .error,
                    "\(reason); batch \(lost.map { String($0.id) }.joined(separator: ", ")) will be retried after "
                        + "the store is read again"
                )
            )
        } else if wasReady {
            out.append(.log(.error, reason))
        }
        if phase == .stopping {
            finish(&out)
            return
        }
        if wasReady { out.append(.loadStore(clearingPending: false)) }
    }

    // MARK: kernel

    private mutating func beginDump(_ out: inout [Effect]) {
        if phase == .starting || phase == .awaitingRestoreFlag { phase = .dumping }
        // Sized for the table last seen (or, before any dump, the store's), so it does not rehash as it fills.
        dumpView = Dictionary(minimumCapacity: max(kernel.count, actual.entries.count))
        dumpMasters = [:]
        overrunDuringDump = false
        counters.dumps += 1
        out.append(.requestKernelDump)
    }

    private mutating func kernelMessage(_ m: NeighborMessage, _ out: inout [Effect]) {
        guard kernelObserved else { return }
        counters.kernelMessages += 1
        // The dispatcher handles NEW and DEL only (spec §1.4); a GET carries no state.
        let isNew: Bool
        switch m.type {
        case .newNeighbor: isNew = true
        case .deleteNeighbor: isNew = false
        default:
            counters.ignoredMessages += 1
            return
        }
        guard m.family == KernelFamily.inet || m.family == KernelFamily.inet6,
            let key = m.key, key.ip.family.rawValue == m.family
        else {
            counters.ignoredMessages += 1
            return
        }
        // Spec §12, a side effect of every message (dump entries too) in any phase that reads the
        // kernel: not held back by a dump or the reconcile timer, and emitted before anything this
        // message may make the core write to NEIGH_TABLE.
        let failed = failedTable.observe(
            m,
            key: key,
            policy: policy,
            storeReady: storeReady,
            redump: dumpView != nil && phase == .steady
        )
        if !failed.isEmpty { out.append(.writeFailedNeighbors(failed)) }

        if dumpView != nil {
            if isNew { dumpView![key] = m.neighbor } else { dumpView!.removeValue(forKey: key) }
            Self.note(master: isNew ? m.master : nil, of: key, in: &dumpMasters)
            if writesOverlapDump { writeDuringDump(key, desired: isNew ? decide(m, policy: policy).entry : nil, &out) }
            return
        }
        Self.note(master: isNew ? m.master : nil, of: key, in: &kernelMasters)
        let decision = decide(m, policy: policy)
        let before = desiredEntry(for: key)
        if isNew { kernel[key] = m.neighbor } else { kernel.removeValue(forKey: key) }
        let want = isNew ? decision.entry : nil
        if case .ignore = decision { counters.ignoredMessages += 1 }
        let changed = before != want
        desiredCount += (want == nil ? 0 : 1) - (before == nil ? 0 : 1)
        guard phase == .steady else { return }
        if case .set(_, _, let vrf?) = decision { out.append(.removeHostRoute(vrf: vrf, ip: key.ip)) }
        // `changed` catches a key whose write is in flight: `actual` does not show it yet.
        if changed || minimalChange(for: key, desired: want, actual: actual.entries[key]) != nil {
            markDirty(key, &out)
        }
    }

    private mutating func dumpDone(interrupted: Bool, _ out: inout [Effect]) {
        guard let view = dumpView else { return }
        if interrupted {
            counters.dumpsInterrupted += 1
            out.append(.log(.warning, "neighbor dump interrupted (NLM_F_DUMP_INTR); dumping again"))
            dumpView = nil
            beginDump(&out)
            return
        }
        dumpView = nil
        kernel = view
        kernelMasters = dumpMasters
        dumpMasters = [:]
        let failed = failedTable.dumpCompleted(kernel: kernel, policy: policy, storeReady: storeReady)
        if !failed.isEmpty { out.append(.writeFailedNeighbors(failed)) }
        desiredRecordDue = true
        desiredRecordWaits = 0
        desiredRecordAcknowledged = counters.batchesAcknowledged
        if !desiredRecordTimerArmed {
            desiredRecordTimerArmed = true
            out.append(.armTimer(.desiredRecord, milliseconds: Self.desiredRecordWaitMilliseconds))
        }
        if overrunDuringDump {
            overrunDuringDump = false
            requestRedump(&out)
        }
        switch phase {
        case .dumping:
            if !writtenDuringDump.isEmpty {
                // The resync's count that follows has only those not yet acknowledged.
                out.append(.log(.info, "first dump: \(writtenDuringDump.count) set queued while it ran"))
                writtenDuringDump = []
            }
            if warmStart {
                recountDesired()
                phase = .awaitingReconcileTimer
                out.append(.armTimer(.reconcile, milliseconds: reconcileTimerSeconds * 1000))
            } else {
                phase = .steady
                armVerifyTimer(&out)
                resync(&out)
            }
        case .steady:
            resync(&out)
        default:
            recountDesired()
        }
    }

    /// No NLMSG_DONE will come for this dump: forget it and dump again (at most once per cooldown,
    /// so a kernel that keeps refusing is not asked in a loop). An overrun always ends in a dump.
    private mutating func dumpFailed(reason: String, _ out: inout [Effect]) {
        guard dumpView != nil else { return }
        dumpView = nil
        overrunDuringDump = false
        counters.dumpsFailed += 1
        out.append(.log(.error, "kernel neighbor dump failed: \(reason); dumping again"))
        requestRedump(&out)
    }

    /// Overruns and link changes ask for a fresh dump, at most one per cooldown.
    private mutating func requestRedump(_ out: inout [Effect]) {
        if dumpView != nil {
            overrunDuringDump = true
        } else if cooldownArmed {
            redumpWanted = true
        } else {
            beginDump(&out)
            cooldownArmed = true
            out.append(.armTimer(.redumpCooldown, milliseconds: config.redumpCooldownMilliseconds))
        }
    }

    private mutating func policyChanged(_ p: Policy, _ out: inout [Effect]) {
        guard p != policy else { return }
        policy = p
        if phase != .steady { recountDesired() }  // in steady the resync below counts it
        out.append(
            .log(
                .notice,
                "policy changed: dual-ToR \(p.dualToR), EVPN \(p.evpn), link-local on "
                    + "\(p.linkLocalInterfaces.map(\.rawValue).sorted())"
            )
        )
        // The desired view follows from the kernel view and the policy; in steady state the
        // store is brought in line at once.
        if phase == .steady { resync(&out) }
    }

    // MARK: writes overlapping the first dump

    /// A cold or crash start writes while its first dump runs, once the store is read: a SET for a
    /// key whose entry in the dump's table the store does not hold goes out then, in full batches.
    /// Safe there: the dump's table holds, for each key it has met, the kernel's latest word on it
    /// (its entry, then every notification after it, in order), and the store as read is what is
    /// written over; a DEL waits, since a key the dump has not reached yet looks absent.
    /// Not in a warm start (nothing before the reconcile timer, spec §5), nor in a re-dump in steady:
    /// there the queued changes are computed from the kernel view, which for a key the dump has met
    /// is older than the dump's table and for the others the only word; writing from both would
    /// write a key to one value and back. A re-dump repairs lost notifications, so little waits.
    var writesOverlapDump: Bool {
        config.writesOverlapDump && phase == .dumping && !warmStart && storeReady && dumpView != nil
    }

    /// What the store should hold for a key by the running dump's table.
    func dumpDesiredEntry(for key: NeighborKey) -> NeighborEntry? {
        dumpView?[key].flatMap { Reconciler.desiredEntry(for: key, $0, policy: policy) }
    }

    /// Queues the SET of a key the dump wants and the store lacks, once per start: what the dump
    /// later says of that key (a notification) is settled by the dump's end, so a key is written at
    /// most twice where the run without the overlap writes it at most once.
    private mutating func writeDuringDump(_ key: NeighborKey, desired: NeighborEntry?, _ out: inout [Effect]) {
        guard let desired, minimalChange(for: key, desired: desired, actual: actual.entries[key]) != nil,
            writtenDuringDump.insert(key).inserted
        else { return }
        removeHostRoute(before: key, inDump: true, &out)
        dirty.insert(key)
        if pendingCount >= config.batchSize { flush(&out) }
    }

    /// The store was read while the first dump ran: the SETs the dump has called for so far, in
    /// plan order (never a hash table's).
    private mutating func writeDumpedSets(_ out: inout [Effect]) {
        guard writesOverlapDump, let view = dumpView else { return }
        var wanted: [DesiredEntry] = []
        for (k, n) in view where !writtenDuringDump.contains(k) {
            if let e = Reconciler.desiredEntry(for: k, n, policy: policy) { wanted.append(DesiredEntry(k, e)) }
        }
        sortInPlanOrder(&wanted, key: { $0.key })
        for w in wanted { writeDuringDump(w.key, desired: w.entry, &out) }
    }

    // MARK: timers

    private mutating func timerFired(_ t: TimerID, _ out: inout [Effect]) {
        switch t {
        case .flush:
            flushTimerArmed = false
            guard phase == .steady else { return }
            flushDue = true
            flush(&out)
        case .reconcile:
            guard phase == .awaitingReconcileTimer else { return }
            if storeReady {
                reconcile(&out)
            } else {
                reconcileDue = true
                out.append(.log(.notice, "reconcile timer fired; reconciling once APPL_DB is read"))
            }
        case .redumpCooldown:
            cooldownArmed = false
            if redumpWanted {
                redumpWanted = false
                requestRedump(&out)
            }
        case .desiredRecord:
            desiredRecordTimerArmed = false
            guard desiredRecordDue else { return }
            // Batches still being acknowledged: the store is catching up, and the record would
            // hold up the next ones (a large cold start on a slow CPU); wait once more, up to a cap.
            let progressing = counters.batchesAcknowledged > desiredRecordAcknowledged
            if phase == .steady && progressing && desiredRecordWaits < Self.desiredRecordMaxWaits {
                desiredRecordWaits += 1
                desiredRecordAcknowledged = counters.batchesAcknowledged
                desiredRecordTimerArmed = true
                out.append(.armTimer(.desiredRecord, milliseconds: Self.desiredRecordWaitMilliseconds))
            } else {
                recordDesiredView(&out)
            }
        case .writeRetry:
            retryTimerArmed = false
            // A batch written while the first dump runs may be refused there too.
            guard phase == .steady || phase == .dumping, !awaitingRetry.isEmpty else { return }
            // The same batches again: their keys stayed reserved, so nothing overtook them.
            for b in inFlight where awaitingRetry.contains(b.id) { out.append(.write(b)) }
            awaitingRetry = []
            flush(&out)
        case .verify: verifyTimerFired(&out)
        case .forgetAcknowledged: forgetAcknowledged(&out)
        case .keyspaceHoldOff: keyspaceHoldOffEnded(&out)
        }
    }

    /// The end of a warm start: the NOTICE lines upstream prints (its tests grep for them), then
    /// everything that differs is written back to back.
    private mutating func reconcile(_ out: inout [Effect]) {
        reconcileDue = false
        let plan = plan()
        logReconcileDecisions(plan, &out)
        phase = .steady
        armVerifyTimer(&out)
        resync(plan: plan, markingReconciled: true, &out)
    }

    private func logReconcileDecisions(_ plan: Plan, _ out: inout [Effect]) {
        for change in plan.sorted {
            switch change {
            case .set(let k, let e):
                out.append(
                    .log(.notice, "NEIGH_TABLE NEW, key: \(k), neigh:\(e.mac), family:\(e.family), cache-state:NEW, ")
                )
            case .del(let k):
                let state = kernel[k] == nil ? "STALE" : "DELETE"
                let fields = actual.entries[k]?.entry.map { "neigh:\($0.mac), family:\($0.family), " } ?? ""
                out.append(.log(.notice, "NEIGH_TABLE \(state), key: \(k), \(fields)cache-state:\(state), "))
            case .delMalformed(let raw):
                out.append(.log(.notice, "NEIGH_TABLE STALE, key: \(raw), cache-state:STALE, "))
            }
        }
    }

    // MARK: writing

    /// Compares the whole views and queues every key that differs. At the end of a warm
    /// restart, everything queued is written at once and `reconciled` follows the last ack.
    /// Without a store read there is nothing to compare with: the read's `storeLoaded` resyncs.
    private mutating func resync(plan given: Plan? = nil, markingReconciled: Bool = false, _ out: inout [Effect]) {
        guard storeReady else {
            recountDesired()
            return
        }
        let plan = given ?? plan()
        // The plan covers the whole kernel view: its SETs and unchanged keys are the desired view.
        desiredCount = plan.setCount + plan.unchanged
        // Once the plan is acknowledged the store view holds the desired view: grow its table
        // once, not by doubling as batches arrive (a cold start adds every neighbor).
        actual.entries.reserveCapacity(desiredCount)
        malformedToDelete = []
        dirty.reserve(plan.changes.count + inFlight.reduce(0) { $0 + $1.changes.count })
        for c in plan.changes {
            if case .set(let k, _) = c { removeHostRoute(before: k, inDump: false, &out) }
            if case .delMalformed(let raw) = c { malformedToDelete.append(raw) } else { requeue(c) }
        }
        // Keys in flight are compared again once their batch is acknowledged.
        for c in inFlight.lazy.flatMap(\.changes) {
            if case .delMalformed = c { continue }
            requeue(c)
        }
        // Drifted keys the fresh comparison finds in order are repaired.
        for k in driftToRepair.keys.filter({ !dirty.contains($0) }) { driftSettled(k) }
        if !malformedDriftToRepair.isEmpty {
            let queued = Set(malformedToDelete)
            for raw in malformedDriftToRepair.filter({ !queued.contains($0) }) { malformedDriftSettled(raw) }
        }
        if !plan.isEmpty {
            out.append(.log(.info, "resync: \(plan.setCount) set, \(plan.delCount) del, \(plan.unchanged) unchanged"))
        }
        if markingReconciled { reconciledMark = dirty.enqueuedTotal }
        // A resync repairs a known divergence: its changes go out without waiting for the delay.
        flushDue = pendingCount > 0
        flush(&out)
        if dirty.isEmpty && malformedToDelete.isEmpty { caughtUp(&out) }
    }

    /// EVPN: the host route a live SET of this neighbor removes first (spec §2 "Output"), for a SET
    /// that a resync writes: upstream handles a dump's messages as live ones, so a neighbor first
    /// seen in a dump (a cold start, a re-dump after lost notifications) or reconciled after a warm
    /// start gets it too.
    /// `inDump`: a SET written while the first dump runs, decided by the dump's table.
    private func removeHostRoute(before key: NeighborKey, inDump: Bool, _ out: inout [Effect]) {
        guard policy.evpn, let master = (inDump ? dumpMasters : kernelMasters)[key],
            let n = inDump ? dumpView?[key] : kernel[key]
        else { return }
        let m = NeighborMessage(
            type: .newNeighbor,
            family: key.ip.family.rawValue,
            interface: key.interface,
            master: master,
            destination: key.ip,
            linkLayerAddress: n.linkLayerAddress,
            state: n.state,
            flags: n.flags
        )
        if case .set(_, _, let vrf?) = decide(m, policy: policy) { out.append(.removeHostRoute(vrf: vrf, ip: key.ip)) }
    }

    /// Keeps a masters table in step with the kernel view; costs nothing while no interface has one.
    private static func note(
        master: InterfaceName?,
        of key: NeighborKey,
        in table: inout [NeighborKey: InterfaceName]
    ) {
        if let master { table[key] = master } else if !table.isEmpty { table.removeValue(forKey: key) }
    }

    private mutating func requeue(_ c: Change) {
        switch c {
        case .set(let k, _), .del(let k): dirty.insert(k)
        case .delMalformed(let raw): malformedToDelete.append(raw)
        }
    }

    mutating func markDirty(_ key: NeighborKey, _ out: inout [Effect]) {
        dirty.insert(key)
        if pendingCount >= config.batchSize {
            flush(&out)
        } else if !flushDue && !flushTimerArmed {
            flushTimerArmed = true
            out.append(.armTimer(.flush, milliseconds: config.batchDelayMilliseconds))
        }
    }

    /// Writes batches while the store is ready, fewer than `batchesInFlight` are in flight, and a
    /// batch is full or due. A key whose write is in flight stays queued until that batch is
    /// acknowledged, so batches in flight never share a key.
    mutating func flush(_ out: inout [Effect]) {
        while phase == .steady || writesOverlapDump, storeReady, awaitingRetry.isEmpty,
            inFlight.count < config.batchesInFlight
        {
            guard pendingCount >= config.batchSize || (flushDue && pendingCount > 0) else {
                if pendingCount == 0 { flushDue = false }
                return
            }
            // Not steady: the first dump runs and its SETs go out (`writesOverlapDump`).
            let steady = phase == .steady
            var changes: [Change] = []
            changes.reserveCapacity(min(pendingCount, config.batchSize))
            var waiting: [NeighborKey] = []
            var waitingMalformed: [String] = []
            var replacing: Set<NeighborKey> = []
            while changes.count < config.batchSize, let raw = malformedToDelete.popLast() {
                if inFlightMalformedKeys.contains(raw) {
                    waitingMalformed.append(raw)
                } else if actual.malformedKeys.contains(raw) {
                    changes.append(.delMalformed(raw))
                } else {
                    malformedDriftSettled(raw)
                }
            }
            while changes.count < config.batchSize, let key = dirty.popFirst() {
                if !inFlight.isEmpty && inFlightKeys.contains(key) {
                    waiting.append(key)
                    continue
                }
                let desired = steady ? desiredEntry(for: key) : dumpDesiredEntry(for: key)
                var change = minimalChange(for: key, desired: desired, actual: actual.entries[key])
                if !rewriteKeys.isEmpty, rewriteKeys.remove(key) != nil, change == nil, let desired {
                    change = .set(key, desired)
                }
                guard let c = change else {
                    driftSettled(key)
                    continue
                }
                // During the dump only SETs: the dump's end decides the rest (`writeDuringDump`).
                if !steady, !c.isSet { continue }
                if c.isSet, actual.entries[key] == .malformed { replacing.insert(key) }
                changes.append(c)
            }
            malformedToDelete += waitingMalformed
            for k in waiting { dirty.insert(k) }
            if pendingCount == 0 { flushDue = false }
            guard !changes.isEmpty else {
                caughtUp(&out)
                return
            }
            lastBatchID += 1
            let batch = Batch(id: lastBatchID, changes: changes, replacing: replacing)
            inFlight.append(batch)
            track(batch, inFlight: true)
            noteWrittenDuringVerification(batch)
            counters.batchesWritten += 1
            out.append(.journal(.batchWritten(batch)))
            out.append(.write(batch))
            // Keys were set aside for a batch in flight: stop rather than take them out again; the
            // next batch goes after an acknowledgement.
            if !waiting.isEmpty || !waitingMalformed.isEmpty { return }
        }
    }

    /// Keeps the key sets of the batches in flight in step with `inFlight`.
    private mutating func track(_ batch: Batch, inFlight on: Bool) {
        for c in batch.changes {
            switch c {
            case .set(let k, _), .del(let k):
                if on { inFlightKeys.insert(k) } else { inFlightKeys.remove(k) }
            case .delMalformed(let raw):
                if on { inFlightMalformedKeys.insert(raw) } else { inFlightMalformedKeys.remove(raw) }
            }
        }
    }

    /// Redis refused the writes but the connection is fine: not a lost store (no re-read, no
    /// reconnect). The batch stays in flight, its keys reserved, and is written again after a
    /// backoff that doubles with each refusal in a row; no new batch goes out meanwhile. Writing
    /// it again is safe whatever part of it was applied: each change sets a key to its final value.
    private mutating func batchRefused(_ id: UInt64, _ out: inout [Effect]) {
        guard inFlight.contains(where: { $0.id == id }), !awaitingRetry.contains(id) else { return }
        counters.batchesRefused += 1
        awaitingRetry.insert(id)
        if phase == .stopping {
            if !repliesAwaited { finish(&out) }
            return
        }
        refusalStreak += 1
        guard !retryTimerArmed else { return }
        retryTimerArmed = true
        out.append(.armTimer(.writeRetry, milliseconds: config.writeRetry.milliseconds(afterFailures: refusalStreak)))
    }

    /// Batches in flight share no key, so a batch written again after a refusal may be
    /// acknowledged after one written later.
    private mutating func batchAcknowledged(_ id: UInt64, _ out: inout [Effect]) {
        guard let i = inFlight.firstIndex(where: { $0.id == id }), !awaitingRetry.contains(id) else { return }
        let batch = inFlight.remove(at: i)
        refusalStreak = 0
        track(batch, inFlight: false)
        actual.apply(batch)
        if !driftToRepair.isEmpty || !malformedDriftToRepair.isEmpty {
            for c in batch.changes {
                switch c {
                case .set(let k, _), .del(let k): driftSettled(k)
                case .delMalformed(let raw): malformedDriftSettled(raw)
                }
            }
        }
        let sets = batch.changes.lazy.filter(\.isSet).count
        counters.setsAcknowledged += sets
        counters.delsAcknowledged += batch.changes.count - sets
        counters.batchesAcknowledged += 1
        out.append(.journal(.batchApplied(batch)))
        rewriteDeletedAliases(batch, &out)
        rememberAcknowledged(batch, &out)
        if phase == .stopping {
            if !repliesAwaited { finish(&out) }
            return
        }
        flush(&out)
        if inFlight.isEmpty { caughtUp(&out) }
    }

    /// Nothing may be queued or in flight any more: what waits for that happens.
    private mutating func caughtUp(_ out: inout [Effect]) {
        maybeReportReconciled(&out)
        recordDesiredViewIfCaughtUp(&out)
    }

    /// The last complete dump's desired view goes to the journal (for `reconcile --journal`) once
    /// the store has caught up with it, not at the dump's end: building and committing 100,000
    /// entries takes ~100 ms, which a cold start's batches would otherwise wait behind. If the
    /// store does not catch up it goes anyway when `.desiredRecord` fires: after a second without
    /// an acknowledgement (writes refused, the store lost), or after ten at most (constant churn).
    private mutating func recordDesiredViewIfCaughtUp(_ out: inout [Effect]) {
        guard phase == .steady, inFlight.isEmpty, pendingCount == 0 else { return }
        recordDesiredView(&out)
    }

    /// Journals the kernel view's desired entries if a complete dump was not recorded yet. The kernel
    /// view is always a complete dump's (a running dump builds a table of its own).
    private mutating func recordDesiredView(_ out: inout [Effect]) {
        guard desiredRecordDue else { return }
        desiredRecordDue = false
        out.append(.journal(.desiredReplaced(desiredEntries)))
    }

    private mutating func maybeReportReconciled(_ out: inout [Effect]) {
        guard let mark = reconciledMark, phase == .steady, inFlight.isEmpty,
            dirty.dequeuedTotal >= mark, malformedToDelete.isEmpty
        else { return }
        reconciledMark = nil
        out.append(.setWarmRestartState(.reconciled))
        out.append(.log(.notice, "warm restart reconciled"))
    }

    private mutating func finish(_ out: inout [Effect]) {
        phase = .stopped
        // A clean exit leaves the last dump's desired view in the journal even if it never caught up.
        recordDesiredView(&out)
        out.append(.log(.notice, "stopped"))
        out.append(.exit(code: 0))
    }
}
