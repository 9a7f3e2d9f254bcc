import Model

/// Anti-entropy's cheap detection (docs/state-machine.md, "Drift"): APPL_DB's keyspace
/// notifications name the `NEIGH_TABLE:<key>` keys someone touched, and only a touch the daemon's
/// own writes do not explain costs a verifying read. A key queued or in flight is the daemon's
/// own; orchagent consuming an acknowledged batch touches each of its keys once (one script per
/// pop): each acknowledged key excuses the first report that names it, for a while (two
/// generations, rotated by `.forgetAcknowledged`: orchagent may be slow, or not running); a key
/// acknowledged twice excuses two. A read costs ~0.2 s of the daemon's CPU and as much of Redis's
/// per 100,000 entries, so after each verifying read a hold-off passes before a touch asks another:
/// touches meanwhile only mark one pending, and one read covers them all. Under another writer's
/// churn (or excuses forgotten before orchagent consumed them) that bounds the cost to one read
/// per read's length plus the hold-off. With no notifications (Redis without them, or nothing
/// changed) the periodic read is the backstop.
extension DaemonState {
    /// How long an acknowledged key waits for orchagent to consume it: one to two of these.
    static let acknowledgedMemoryMilliseconds = 30_000
    /// After a verifying read ends, touches wait this long for the next: at least 25 times a
    /// 100,000-entry read (~0.2 s), so keyspace reads take at most ~4 % of a core here and in Redis.
    static let keyspaceHoldOffMilliseconds = 5_000

    /// `keys`: the raw keys (after `NEIGH_TABLE:`) the notifications named since the last report;
    /// `overflow`: any key may have changed (the subscription was lost meanwhile).
    mutating func storeKeysTouched(_ keys: Set<String>, overflow: Bool, _ out: inout [Effect]) {
        // A warm restart's reconcile writes nothing, so compares nothing; a read will follow a lost store.
        guard phase == .steady, storeReady else { return }
        // Every key is looked at: each consumes its own excuse.
        var foreign = overflow
        // Built once per report, not searched per key: a report may name many malformed keys.
        var queuedMalformed: Set<String>?
        for raw in keys where !explainedByOwnWrite(raw, queuedMalformed: &queuedMalformed) { foreign = true }
        guard foreign else { return }
        // A read running may have passed the key already: one more follows it, after the hold-off.
        keyspaceReadPending = true
        verifyTouchedKeysIfDue(&out)
    }

    /// Reads for the touches pending once no read runs and the hold-off after the last one passed.
    mutating func verifyTouchedKeysIfDue(_ out: inout [Effect]) {
        guard keyspaceReadPending, verifyOutstanding == nil, !keyspaceHoldOffArmed else { return }
        keyspaceReadPending = false
        guard phase == .steady, storeReady else { return }
        counters.keyspaceVerifications += 1
        requestVerification(&out)
    }

    /// A verifying read ended (compared or failed): the next keyspace read waits for the hold-off.
    mutating func startKeyspaceHoldOff(_ out: inout [Effect]) {
        guard config.watchesStoreKeys, !keyspaceHoldOffArmed else { return }
        keyspaceHoldOffArmed = true
        out.append(.armTimer(.keyspaceHoldOff, milliseconds: Self.keyspaceHoldOffMilliseconds))
    }

    mutating func keyspaceHoldOffEnded(_ out: inout [Effect]) {
        keyspaceHoldOffArmed = false
        verifyTouchedKeysIfDue(&out)
    }

    /// A touch of a key queued or in flight, or orchagent consuming a key acknowledged lately.
    private mutating func explainedByOwnWrite(_ raw: String, queuedMalformed: inout Set<String>?) -> Bool {
        let hash: Int
        if let k = NeighborKey(raw), k.description == raw {
            if dirty.contains(k) || inFlightKeys.contains(k) { return true }
            hash = k.hashValue
        } else {
            if queuedMalformed == nil { queuedMalformed = Set(malformedToDelete) }
            if inFlightMalformedKeys.contains(raw) || queuedMalformed?.contains(raw) == true { return true }
            hash = raw.hashValue
        }
        return Self.takeExcuse(hash, from: &acknowledged) || Self.takeExcuse(hash, from: &acknowledgedBefore)
    }

    private static func takeExcuse(_ hash: Int, from excuses: inout [Int: UInt8]) -> Bool {
        guard let n = excuses[hash] else { return false }
        excuses[hash] = n > 1 ? n - 1 : nil
        return true
    }

    /// Asks for a verifying read now, noting what is in flight (its view of those keys may be
    /// older or newer than `actual`).
    mutating func requestVerification(_ out: inout [Effect]) {
        lastVerifyID += 1
        verifyOutstanding = lastVerifyID
        writtenSinceVerify = inFlightKeys
        writtenMalformedSinceVerify = inFlightMalformedKeys
        out.append(.verifyStore(id: lastVerifyID))
    }

    /// An acknowledged batch: orchagent will consume its keys, and notifications will say so.
    mutating func rememberAcknowledged(_ batch: Batch, _ out: inout [Effect]) {
        guard config.watchesStoreKeys else { return }
        for c in batch.changes {
            switch c {
            case .set(let k, _), .del(let k): addExcuse(k.hashValue)
            case .delMalformed(let raw): addExcuse(raw.hashValue)
            }
        }
        guard !forgetTimerArmed else { return }
        forgetTimerArmed = true
        out.append(.armTimer(.forgetAcknowledged, milliseconds: Self.acknowledgedMemoryMilliseconds))
    }

    /// One more pop of this key to come; saturates (a key rewritten 255 times is a read at worst).
    private mutating func addExcuse(_ hash: Int) {
        let n = acknowledged[hash, default: 0]
        acknowledged[hash] = n == .max ? n : n + 1
    }

    /// The older generation is forgotten; the timer runs only while something is remembered.
    mutating func forgetAcknowledged(_ out: inout [Effect]) {
        forgetTimerArmed = false
        (acknowledgedBefore, acknowledged) = (acknowledged, [:])
        guard !acknowledgedBefore.isEmpty else { return }
        forgetTimerArmed = true
        out.append(.armTimer(.forgetAcknowledged, milliseconds: Self.acknowledgedMemoryMilliseconds))
    }
}
