import Model

/// The commands of one write to a ProducerStateTable, as one transaction laid out in the Redis
/// protocol (spec §4): `MULTI`; per SET, one `HSET` of every field into its staging hash; one
/// `SADD` of every key to the key set; for DELs (and SETs in `replacing`), one `SADD` to the
/// delete set; for DELs, one `DEL` of their staging hashes; a `PUBLISH` per `keysPerNotification`
/// keys; `EXEC`. Redis runs no other client's command between MULTI and EXEC, so a consumer's pop
/// sees a key's staging hash and its set memberships change together, as with upstream's Lua
/// script; the order of the commands inside is invisible to it. Keys are distinct within a write
/// (the core's rule: one operation per key per batch), so no key is both set and deleted in one
/// transaction (a replacing SET puts its key in the delete set, but deletes no staging hash).
enum ProducerStateTransaction {
    /// A consumer pops at most 128 keys per notification (orchagent's smallest batch size): one
    /// PUBLISH per 128 keys carried strands none, whether or not each is new to the key set.
    static let keysPerNotification = 128

    /// The keys of one transaction as text, laid out once and copied into each command that names
    /// them (HSET's staging hash, SADD, DEL): no `String` per key. Reused from call to call.
    struct KeyScratch {
        var bytes: [UInt8] = []
        /// Where each key's text ends in `bytes`; it starts where the one before ends.
        var ends: [Int] = []

        mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
        }

        func key(_ i: Int) -> ArraySlice<UInt8> { bytes[(i == 0 ? 0 : ends[i - 1])..<ends[i]] }
    }

    /// Appends the transaction carrying `operations` to `out`; returns the commands queued between
    /// MULTI and EXEC (the replies are MULTI's, one per queued command, and EXEC's).
    static func append<Operations: Collection>(
        _ operations: Operations,
        names: ProducerStateTableNames,
        keys: inout KeyScratch,
        replacing: Set<String> = [],
        to out: inout [UInt8]
    ) -> Int where Operations.Element: ProducerStateOperation {
        keys.removeAll()
        var dels = 0
        // A SET replacing a malformed value joins the delete set too: the pop DELs the consumed
        // value before it HSETs the staging fields. Rare: the common write looks nothing up.
        let toDeleteFirst = { (op: Operations.Element) in
            !op.isSet || (!replacing.isEmpty && replacing.contains(op.keyText))
        }
        let replaced = replacing.isEmpty ? 0 : operations.lazy.filter { $0.isSet && toDeleteFirst($0) }.count
        let staging = Array(names.stagingPrefix.utf8)  // computed: built once, not per key
        RESP.arguments(1, to: &out)
        RESP.bulk("MULTI", to: &out)
        for op in operations {
            op.appendKey(to: &keys.bytes)
            keys.ends.append(keys.bytes.count)
            guard op.isSet else {
                dels += 1
                continue
            }
            RESP.arguments(2 + 2 * names.fields.count, to: &out)
            RESP.bulk("HSET", to: &out)
            RESP.bulk(staging, keys.key(keys.ends.count - 1), to: &out)
            for (i, field) in names.fields.enumerated() {
                RESP.bulk(field, to: &out)
                op.appendValue(ofField: i, to: &out)
            }
        }
        let count = keys.ends.count
        var queued = count - dels
        if count > 0 {
            RESP.arguments(2 + count, to: &out)
            RESP.bulk("SADD", to: &out)
            RESP.bulk(names.keySet, to: &out)
            for i in 0..<count { RESP.bulk(keys.key(i), to: &out) }
            queued += 1
        }
        if dels + replaced > 0 {
            RESP.arguments(2 + dels + replaced, to: &out)
            RESP.bulk("SADD", to: &out)
            RESP.bulk(names.delSet, to: &out)
            for (i, op) in operations.enumerated() where toDeleteFirst(op) { RESP.bulk(keys.key(i), to: &out) }
            queued += 1
        }
        if dels > 0 {
            RESP.arguments(1 + dels, to: &out)
            RESP.bulk("DEL", to: &out)
            for (i, op) in operations.enumerated() where !op.isSet { RESP.bulk(staging, keys.key(i), to: &out) }
            queued += 1
        }
        let notifications = (count + keysPerNotification - 1) / keysPerNotification
        for _ in 0..<notifications {
            RESP.arguments(3, to: &out)
            RESP.bulk("PUBLISH", to: &out)
            RESP.bulk(names.channel, to: &out)
            RESP.bulk(ProducerStateTableNames.notification, to: &out)
        }
        RESP.arguments(1, to: &out)
        RESP.bulk("EXEC", to: &out)
        return queued + notifications
    }
}
