import Model

/// How APPL_DB's `NEIGH_TABLE` can differ from what the daemon last acknowledged.
public enum DriftKind: String, Hashable, Sendable, CaseIterable {
    /// Both hold the key, with different entries (a MAC changed behind the daemon's back).
    case changed
    /// The daemon's write was acknowledged; the key is gone.
    case missing
    /// A well-formed key the daemon never wrote (or deleted).
    case unknown
    /// A key that does not parse, or an entry whose fields do not.
    case malformed
}

/// A count per drift kind.
public struct DriftCounts: Hashable, Sendable {
    public var changed = 0
    public var missing = 0
    public var unknown = 0
    public var malformed = 0

    public init() {}

    public subscript(kind: DriftKind) -> Int {
        get {
            switch kind {
            case .changed: changed
            case .missing: missing
            case .unknown: unknown
            case .malformed: malformed
            }
        }
        set {
            switch kind {
            case .changed: changed = newValue
            case .missing: missing = newValue
            case .unknown: unknown = newValue
            case .malformed: malformed = newValue
            }
        }
    }

    public var total: Int { changed + missing + unknown + malformed }
}

/// Anti-entropy: in steady state a verifying read of APPL_DB every `verifyIntervalMilliseconds`
/// (docs/state-machine.md, "Drift"). A key the read shows otherwise than `actual` has drifted,
/// unless the daemon's own writes may explain it: a key queued, in flight, or written since the
/// read was asked for (the read runs on another connection, so it may see such a write or not).
/// A drifted key's `actual` takes the value read and the key joins the dirty queue: the ordinary
/// flush writes what the desired view calls for (changed or missing: SET; unknown or malformed:
/// DEL), or nothing when the store already holds it.
extension DaemonState {
    /// Per-key NOTICE lines in one verification; the rest are summarized.
    static let driftLogLimit = 20
    /// A key found drifted at this many verifying reads in a row gets a WARNING: something keeps
    /// writing it (another writer fighting the daemon), which repairs alone will not end.
    static let persistentDriftReads = 3

    /// Entering steady state: the first verifying read is one interval away.
    mutating func armVerifyTimer(_ out: inout [Effect]) {
        guard config.verifyIntervalMilliseconds > 0, !verifyTimerArmed else { return }
        verifyTimerArmed = true
        out.append(.armTimer(.verify, milliseconds: config.verifyIntervalMilliseconds))
    }

    /// Never outside steady state (a warm restart's reconcile timer included: nothing is written
    /// there), nor without a store read, nor over a read still running.
    mutating func verifyTimerFired(_ out: inout [Effect]) {
        verifyTimerArmed = false
        guard phase == .steady else { return }
        armVerifyTimer(&out)
        guard storeReady, verifyOutstanding == nil else { return }
        requestVerification(&out)
    }

    /// A new store read or a lost store makes the running verification meaningless, and the
    /// touches before it: a store read covers them, and a lost store is read again.
    mutating func abandonVerification() {
        forgetRunningRead()
        keyspaceReadPending = false
    }

    /// The read outstanding was compared or failed; touches meanwhile stay pending for the next.
    private mutating func endVerification(_ out: inout [Effect]) {
        forgetRunningRead()
        startKeyspaceHoldOff(&out)
    }

    private mutating func forgetRunningRead() {
        verifyOutstanding = nil
        writtenSinceVerify = []
        writtenMalformedSinceVerify = []
    }

    /// A batch goes out while a verifying read runs: the read may or may not see its keys.
    mutating func noteWrittenDuringVerification(_ batch: Batch) {
        guard verifyOutstanding != nil else { return }
        for c in batch.changes {
            switch c {
            case .set(let k, _), .del(let k): writtenSinceVerify.insert(k)
            case .delMalformed(let raw): writtenMalformedSinceVerify.insert(raw)
            }
        }
    }

    mutating func storeVerified(id: UInt64, _ read: StoreSnapshot, _ out: inout [Effect]) {
        guard verifyOutstanding == id else { return }
        let (written, writtenMalformed) = (writtenSinceVerify, writtenMalformedSinceVerify)
        endVerification(&out)
        guard phase == .steady, storeReady else { return }
        counters.verifications += 1
        // Batches in flight now were in flight when the read was asked for, or written since.
        func settled(_ k: NeighborKey) -> Bool { !written.contains(k) && !dirty.contains(k) }
        var drifted: [(key: NeighborKey, kind: DriftKind, read: StoredEntry?)] = []
        for (k, have) in read.entries where actual.entries[k] != have && settled(k) {
            let kind: DriftKind =
                have == .malformed ? .malformed : actual.entries[k] == nil ? .unknown : .changed
            drifted.append((k, kind, have))
        }
        for (k, _) in actual.entries where read.entries[k] == nil && settled(k) { drifted.append((k, .missing, nil)) }
        let queuedMalformed = Set(malformedToDelete)
        func settledRaw(_ raw: String) -> Bool { !writtenMalformed.contains(raw) && !queuedMalformed.contains(raw) }
        let newMalformed = read.malformedKeys.subtracting(actual.malformedKeys).filter(settledRaw).sorted()
        let goneMalformed = actual.malformedKeys.subtracting(read.malformedKeys).filter(settledRaw)
        noteStreaks(drifted.lazy.map(\.key.description) + newMalformed, &out)
        guard !drifted.isEmpty || !newMalformed.isEmpty || !goneMalformed.isEmpty else { return }
        sortInPlanOrder(&drifted, key: { $0.key })
        var found = DriftCounts()
        var lines: [String] = []
        for d in drifted {
            if lines.count < Self.driftLogLimit { lines.append(Self.describe(d.key, d.kind, read: d.read, actual)) }
            if let r = d.read { actual.entries[d.key] = r } else { actual.entries.removeValue(forKey: d.key) }
            // A key whose repair still waits (a re-dump runs) drifted once: one repair settles it.
            guard driftToRepair[d.key] == nil else { continue }
            found[d.kind] += 1
            driftToRepair[d.key] = d.kind
        }
        for raw in newMalformed {
            found.malformed += 1
            if lines.count < Self.driftLogLimit { lines.append("NEIGH_TABLE drift: malformed key \(raw); deleting") }
            actual.malformedKeys.insert(raw)
            malformedDriftToRepair.insert(raw)
        }
        // A malformed key someone else removed: nothing to repair.
        actual.malformedKeys.subtract(goneMalformed)
        for kind in DriftKind.allCases { counters.driftFound[kind] += found[kind] }
        // Nothing is journaled: a `storeReloaded` here rewrote the whole store view per interval
        // (100,000 entries, with another writer that keeps at it) and forgot the batches in
        // flight. The repairs' `batchApplied` records bring the journal's view forward; a drifted
        // key that needs no write stays as last acknowledged there, and a start reads the store.
        for line in lines { out.append(.log(.notice, line)) }
        if found.total > 0 {
            let more = found.total - lines.count
            out.append(
                .log(
                    .notice,
                    "NEIGH_TABLE drift: \(found.total) key(s) differ from what was acknowledged (changed "
                        + "\(found.changed), missing \(found.missing), unknown \(found.unknown), malformed "
                        + "\(found.malformed))\(more > 0 ? "; \(more) not logged" : ""); repairing"
                )
            )
        }
        // A re-dump runs because notifications were lost or links changed: the kernel view may
        // be stale, and a repair decided from it wrong. `actual` is corrected; the resync at the
        // dump's end compares it with the fresh dump and writes what that calls for.
        guard dumpView == nil else { return }
        malformedToDelete += newMalformed
        for d in drifted { markDirty(d.key, &out) }
        // Repairs go out without waiting for the batch delay, as a resync's do.
        flushDue = pendingCount > 0
        flush(&out)
    }

    /// A malformed key orchagent parses as a neighbor the daemon manages (`Ethernet8:2000:0:0:0:0:0:0:2`
    /// is `Ethernet8:2000::2` to `inet_pton`): its DEL made orchagent remove that neighbor from the
    /// ASIC while `NEIGH_TABLE:<canonical>` stays as it was. The canonical key is written again.
    /// A flush takes malformed keys first, so only a batch's leading changes are looked at.
    mutating func rewriteDeletedAliases(_ batch: Batch, _ out: inout [Effect]) {
        guard phase == .steady, case .delMalformed = batch.changes.first else { return }
        for c in batch.changes {
            guard case .delMalformed(let raw) = c else { break }
            guard let k = NeighborKey(raw), actual.entries[k] != nil, desiredEntry(for: k) != nil else { continue }
            out.append(.log(.notice, "NEIGH_TABLE: deleted \(raw), which orchagent reads as \(k); writing \(k) again"))
            rewriteKeys.insert(k)
            markDirty(k, &out)
        }
    }

    /// A read that failed is dropped and counted; the next interval reads again.
    mutating func storeVerifyFailed(id: UInt64, reason: String, _ out: inout [Effect]) {
        guard verifyOutstanding == id else { return }
        endVerification(&out)
        counters.verifyFailures += 1
        out.append(.log(.warning, "verifying read of APPL_DB failed: \(reason); trying again next interval"))
    }

    /// Counts the reads in a row each drifted key was found at; warns once when one reaches
    /// `persistentDriftReads`. Costs nothing while nothing drifts.
    private mutating func noteStreaks(_ keys: some Collection<String>, _ out: inout [Effect]) {
        guard !keys.isEmpty || !driftStreaks.isEmpty else { return }
        var next: [String: Int] = [:]
        next.reserveCapacity(keys.count)
        var persistent: [String] = []
        for k in keys {
            let n = (driftStreaks[k] ?? 0) + 1
            next[k] = n
            if n == Self.persistentDriftReads { persistent.append(k) }
        }
        driftStreaks = next
        guard !persistent.isEmpty else { return }
        let more = persistent.count > Self.driftLogLimit ? " and \(persistent.count - Self.driftLogLimit) more" : ""
        out.append(
            .log(
                .warning,
                "NEIGH_TABLE drift: \(persistent.count) key(s) found drifted at \(Self.persistentDriftReads) "
                    + "verifying reads in a row (another writer?): "
                    + persistent.prefix(Self.driftLogLimit).joined(separator: ", ") + more
            )
        )
    }

    private static func describe(
        _ key: NeighborKey,
        _ kind: DriftKind,
        read: StoredEntry?,
        _ actual: StoreSnapshot
    ) -> String {
        func text(_ e: StoredEntry?) -> String {
            switch e {
            case .valid(let v)?: "neigh \(v.mac) family \(v.family)"
            case .malformed?: "malformed fields"
            case nil: "absent"
            }
        }
        return "NEIGH_TABLE drift: \(key) \(kind.rawValue): store holds \(text(read)), acknowledged "
            + "\(text(actual.entries[key])); repairing"
    }

    /// A drifted key the store agrees on again: its repair was acknowledged, or nothing needed writing.
    mutating func driftSettled(_ key: NeighborKey) {
        guard !driftToRepair.isEmpty, let kind = driftToRepair.removeValue(forKey: key) else { return }
        counters.driftRepaired[kind] += 1
    }

    mutating func malformedDriftSettled(_ raw: String) {
        guard malformedDriftToRepair.remove(raw) != nil else { return }
        counters.driftRepaired.malformed += 1
    }
}
