import Model

/// Anti-entropy's cheap detection (docs/state-machine.md, "Drift"): APPL_DB's keyspace
/// notifications name the `NEIGH_TABLE:<key>` keys someone touched, and only a touch the daemon's
/// own writes do not explain costs a verifying read. A key queued or in flight is the daemon's
/// own; orchagent consuming an acknowledged batch touches each of its keys once (one script per
/// pop): each acknowledged key excuses the first report that names it, for a while (two
/// generations, rotated by `.forgetAcknowledged`: orchagent may be slow, or not running). With no
/// notifications (Redis without them, or nothing changed) the periodic read is the backstop.
extension DaemonState {
    /// How long an acknowledged key waits for orchagent to consume it: one to two of these.
    static let acknowledgedMemoryMilliseconds = 30_000

    /// `keys`: the raw keys (after `NEIGH_TABLE:`) the notifications named since the last report;
    /// `overflow`: any key may have changed (the subscription was lost meanwhile).
    mutating func storeKeysTouched(_ keys: Set<String>, overflow: Bool, _ out: inout [Effect]) {
        // A warm restart's reconcile writes nothing, so compares nothing; a read will follow a lost store.
        guard phase == .steady, storeReady else { return }
        // Every key is looked at: each consumes its own excuse.
        var foreign = overflow
        for raw in keys where !explainedByOwnWrite(raw) { foreign = true }
        guard foreign else { return }
        guard verifyOutstanding == nil else {
            // The running read may have passed the key already: one more once it ends.
            touchedWhileVerifying = true
            return
        }
        counters.keyspaceVerifications += 1
        requestVerification(&out)
    }

    /// A touch of a key queued or in flight, or orchagent consuming a key acknowledged lately.
    private mutating func explainedByOwnWrite(_ raw: String) -> Bool {
        let hash: Int
        if let k = NeighborKey(raw), k.description == raw {
            if dirty.contains(k) || inFlightKeys.contains(k) { return true }
            hash = k.hashValue
        } else {
            if inFlightMalformedKeys.contains(raw) || malformedToDelete.contains(raw) { return true }
            hash = raw.hashValue
        }
        return acknowledged.remove(hash) != nil || acknowledgedBefore.remove(hash) != nil
    }

    /// A verifying read ended (compared, failed or abandoned): keys touched meanwhile get theirs.
    mutating func verifyTouchedKeysAgain(_ out: inout [Effect]) {
        guard touchedWhileVerifying, verifyOutstanding == nil else { return }
        touchedWhileVerifying = false
        guard phase == .steady, storeReady else { return }
        counters.keyspaceVerifications += 1
        requestVerification(&out)
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
            case .set(let k, _), .del(let k): acknowledged.insert(k.hashValue)
            case .delMalformed(let raw): acknowledged.insert(raw.hashValue)
            }
        }
        guard !forgetTimerArmed else { return }
        forgetTimerArmed = true
        out.append(.armTimer(.forgetAcknowledged, milliseconds: Self.acknowledgedMemoryMilliseconds))
    }

    /// The older generation is forgotten; the timer runs only while something is remembered.
    mutating func forgetAcknowledged(_ out: inout [Effect]) {
        forgetTimerArmed = false
        (acknowledgedBefore, acknowledged) = (acknowledged, [])
        guard !acknowledgedBefore.isEmpty else { return }
        forgetTimerArmed = true
        out.append(.armTimer(.forgetAcknowledged, milliseconds: Self.acknowledgedMemoryMilliseconds))
    }
}
