import CHiredis
import Model

/// Reads `NEIGH_TABLE` from APPL_DB: consumed entries overlaid with what is still pending, by
/// SCAN and pipelined HGETALL. Malformed entries are reported and returned for repair.
public enum StoreReader {
    /// The store view: the keys with pending operations first (`PendingRead`: each one's delete-set
    /// membership, staging and consumed hashes read at one instant), then the consumed table (SCAN
    /// pages, each followed by pipelined HGETALLs in raw protocol, replies checked in place
    /// without building strings or field maps), then the pending keys overlaid through
    /// `NeighTableContent`'s general overlay, which holds orchagent's pop rules. `expected` (the
    /// number of entries last seen) sizes the view up front.
    ///
    /// Why this order is right while orchagent pops during the read (spec §4): a pop only moves
    /// operations from pending to consumed: for each popped key, DEL the consumed hash if the key
    /// was in the delete set, then HSET the staging fields over it. So
    /// - a key pending at the first read: its result is computed from that read alone (its
    ///   delete-set membership, consumed and staging hashes of the same instant; popped before
    ///   that instant, it reads as no operation over the popped result); whatever the SCAN later
    ///   shows for it (popped or not) is replaced;
    /// - a key not pending then: no pop touches it afterwards (only a new write could make it
    ///   pending again, and the core does not judge a key written since it asked for the read),
    ///   so the SCAN shows its eventual value; SCAN returns every key present for its whole run.
    /// Read the other way round (SCAN first), a SET popped in between shows nowhere (missing), a
    /// popped DEL leaves the old entry (unknown), a popped MAC change the old MAC (changed).
    public static func snapshot(
        _ c: RedisConnection,
        names: ProducerStateTableNames = .neighTable,
        expected: Int = 0,
        afterPendingKeySet: () -> Void = {},
        betweenReads: () -> Void = {}
    ) throws(RedisError)
        -> (snapshot: StoreSnapshot, issues: [SnapshotIssue])
    {
        let (pending, pendingIssues) = try PendingRead.read(c, names: names, afterKeySet: afterPendingKeySet)
        betweenReads()
        var (snap, issues) = try consumedTable(c, names: names, expected: expected)
        guard !pending.keySet.isEmpty else { return (snap, issues + pendingIssues) }
        let (overlay, overlayIssues) = pending.snapshot(source: "APPL_DB")
        // What is pending for a key replaces what the consumed table holds for it.
        for raw in pending.keySet {
            var text = raw
            if let k = text.withUTF8({ NeighborKey(canonicalUTF8: UnsafeRawBufferPointer($0)) }) {
                snap.entries[k] = nil
            }
            snap.malformedKeys.remove(raw)
        }
        issues.removeAll { pending.keySet.contains($0.item) }
        snap.entries.merge(overlay.entries) { _, new in new }
        snap.malformedKeys.formUnion(overlay.malformedKeys)
        return (snap, issues + pendingIssues + overlayIssues)
    }

    /// `NEIGH_TABLE:*` as entries. The next SCAN goes out with each page's HGETALLs, so paging
    /// costs no round trip of its own.
    static func consumedTable(
        _ c: RedisConnection,
        names: ProducerStateTableNames,
        expected: Int
    ) throws(RedisError) -> (StoreSnapshot, [SnapshotIssue]) {
        var snap = StoreSnapshot()
        snap.entries.reserveCapacity(expected)
        var issues: [SnapshotIssue] = []
        let prefixLength = names.tablePrefix.utf8.count
        let scan = { (cursor: String) in
            RESP.command(["SCAN", cursor, "MATCH", names.tablePrefix + "*", "COUNT", "1000"])
        }
        try c.appendProtocol(scan("0"), commands: 1)
        while true {
            var cursor = "0"
            var commands: [UInt8] = []
            var keys: [UInt8] = []
            var ends: [Int] = []
            try c.withReply { r throws(RedisError) in
                guard r.type == REDIS_REPLY_ARRAY, r.elements == 2, let next = r.element[0]?.pointee,
                    let page = r.element[1]?.pointee,
                    next.type == REDIS_REPLY_STRING, page.type == REDIS_REPLY_ARRAY
                else { throw RedisError(.reply, "SCAN: unexpected reply type \(r.type)") }
                cursor = String(decoding: RESP.bytes(next), as: UTF8.self)
                commands.reserveCapacity(page.elements * 48)
                for i in 0..<page.elements {
                    guard let k = page.element[i]?.pointee, k.type == REDIS_REPLY_STRING else { continue }
                    let key = RESP.bytes(k)
                    RESP.append(["HGETALL"], key, to: &commands)
                    keys.append(contentsOf: key.dropFirst(prefixLength))
                    ends.append(keys.count)
                }
            }
            if cursor != "0" { commands += scan(cursor) }
            if !commands.isEmpty { try c.appendProtocol(commands, commands: ends.count + (cursor != "0" ? 1 : 0)) }
            var failure: RedisError?
            keys.withUnsafeBytes { all in
                var start = 0
                for end in ends {
                    let raw = UnsafeRawBufferPointer(rebasing: all[start..<end])
                    do throws(RedisError) { try c.withReply { r in check(raw, r, into: &snap, &issues) } } catch {
                        failure = error
                        return
                    }
                    start = end
                }
            }
            if let failure { throw failure }
            if cursor == "0" { return (snap, issues) }
        }
    }

    /// One consumed entry: the reply's fields found in place, then judged by the shared rules.
    static func check(
        _ raw: UnsafeRawBufferPointer,
        _ r: redisReply,
        into snap: inout StoreSnapshot,
        _ issues: inout [SnapshotIssue]
    ) {
        guard r.type == REDIS_REPLY_ARRAY else {
            return NeighTableContent.judge(rawKey: raw, .notAHash, source: "APPL_DB", into: &snap, &issues)
        }
        var neigh: UnsafeRawBufferPointer?
        var family: UnsafeRawBufferPointer?
        var i = 0
        while i + 1 < r.elements {
            if let f = r.element[i]?.pointee, let v = r.element[i + 1]?.pointee {
                let name = RESP.bytes(f)
                if name.elementsEqual("neigh".utf8) {
                    neigh = RESP.bytes(v)
                } else if name.elementsEqual("family".utf8) {
                    family = RESP.bytes(v)
                }
            }
            i += 2
        }
        NeighTableContent.judge(
            rawKey: raw,
            .hash(count: r.elements / 2, neigh: neigh, family: family),
            source: "APPL_DB",
            into: &snap,
            &issues
        )
    }

    /// The raw table: consumed entries, staging hashes, key set and delete set, as stored.
    public static func content(
        _ c: RedisConnection,
        names: ProducerStateTableNames = .neighTable
    ) throws(RedisError) -> NeighTableContent {
        var content = NeighTableContent()
        let tableKeys = try scanKeys(c, match: names.tablePrefix + "*")
        for (k, h) in try hashes(c, tableKeys) { content.table[String(k.dropFirst(names.tablePrefix.count))] = h }
        let stagingKeys = try scanKeys(c, match: names.stagingPrefix + "*")
        for (k, h) in try hashes(c, stagingKeys) { content.staging[String(k.dropFirst(names.stagingPrefix.count))] = h }
        content.keySet = try members(c, names.keySet)
        content.delSet = try members(c, names.delSet)
        return content
    }

    /// Dual-ToR (spec §12): the keys of the `NEIGH_FAILED_TABLE` rows that exist once the pending
    /// operations are consumed — a consumed row not pending a DEL, or a pending SET (a staging hash
    /// whose key is in the key set). A key that is not `<ifname>:<ip>` names no neighbor: reported
    /// and left alone.
    public static func failedNeighbors(
        _ c: RedisConnection,
        names: ProducerStateTableNames = .neighFailedTable
    ) throws(RedisError) -> (keys: Set<NeighborKey>, issues: [SnapshotIssue]) {
        // One SCAN (the consumed rows); the pending keys, few, are looked up by name.
        let consumed = try scanKeys(c, match: names.tablePrefix + "*").map {
            String($0.dropFirst(names.tablePrefix.count))
        }
        let keySet = try members(c, names.keySet)
        let delSet = keySet.isEmpty ? [] : try members(c, names.delSet)
        let pending = Array(keySet)
        let staged = try hashes(c, pending.map(names.stagingKey))
        var present = Set(consumed).subtracting(keySet.intersection(delSet))
        for k in pending where (staged[names.stagingKey(k)] ?? nil)?.isEmpty == false { present.insert(k) }
        var keys: Set<NeighborKey> = []
        var issues: [SnapshotIssue] = []
        for raw in present.sorted() {
            var text = raw
            if let k = text.withUTF8({ NeighborKey(canonicalUTF8: UnsafeRawBufferPointer($0)) }) {
                keys.insert(k)
            } else {
                issues.append(
                    SnapshotIssue(
                        source: "APPL_DB",
                        item: names.tableKey(raw),
                        reason: "not <ifname>:<ip>; left in place"
                    )
                )
            }
        }
        return (keys, issues)
    }

    /// A set's members; those that are not UTF-8 go to `undecodable` instead (they name no key
    /// this daemon can write or delete).
    static func members(
        _ c: RedisConnection,
        _ key: String,
        undecodable: ([UInt8]) -> Void = { _ in }
    )
        throws(RedisError) -> Set<String>
    {
        let r = try c.command(["SMEMBERS", key])
        var out: Set<String> = []
        for m in r.array ?? [] {
            if case .bytes(let raw) = m { undecodable(raw) } else if let s = m.string { out.insert(s) }
        }
        return out
    }
}
