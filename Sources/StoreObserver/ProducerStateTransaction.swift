import Model

/// The commands of one write to a ProducerStateTable, as one transaction laid out in the Redis
/// protocol (spec §4): `MULTI`; per SET, one `HSET` of every field into its staging hash; one
/// `SADD` of every key to the key set; for DELs, one `SADD` to the delete set and one `DEL` of
/// their staging hashes; a `PUBLISH` per `keysPerNotification` keys; `EXEC`. Redis runs no other
/// client's command between MULTI and EXEC, so a consumer's pop sees a key's staging hash and
/// its set memberships change together, as with upstream's Lua script; the order of the commands
/// inside is invisible to it. Keys are distinct within a write (the core's rule: one operation per
/// key per batch), so no key is both set and deleted in one transaction.
enum ProducerStateTransaction {
    /// A consumer pops at most 128 keys per notification (orchagent's smallest batch size): one
    /// PUBLISH per 128 keys carried strands none, whether or not each is new to the key set.
    static let keysPerNotification = 128

    /// Appends the transaction carrying `operations` to `out`; returns the commands queued between
    /// MULTI and EXEC (the replies are MULTI's, one per queued command, and EXEC's). `keys` is
    /// scratch space, reused from call to call.
    static func append<Operations: Collection>(
        _ operations: Operations,
        names: ProducerStateTableNames,
        keys: inout [String],
        to out: inout [UInt8]
    ) -> Int where Operations.Element: ProducerStateOperation {
        keys.removeAll(keepingCapacity: true)
        var dels = 0
        let staging = names.stagingPrefix  // computed: built once, not per key
        RESP.arguments(1, to: &out)
        RESP.bulk("MULTI", to: &out)
        for op in operations {
            let key = op.keyText
            keys.append(key)
            guard op.isSet else {
                dels += 1
                continue
            }
            RESP.arguments(2 + 2 * names.fields.count, to: &out)
            RESP.bulk("HSET", to: &out)
            RESP.bulk(staging, key, to: &out)
            for (i, field) in names.fields.enumerated() {
                RESP.bulk(field, to: &out)
                op.appendValue(ofField: i, to: &out)
            }
        }
        var queued = keys.count - dels
        if !keys.isEmpty {
            RESP.arguments(2 + keys.count, to: &out)
            RESP.bulk("SADD", to: &out)
            RESP.bulk(names.keySet, to: &out)
            for k in keys { RESP.bulk(k, to: &out) }
            queued += 1
        }
        if dels > 0 {
            RESP.arguments(2 + dels, to: &out)
            RESP.bulk("SADD", to: &out)
            RESP.bulk(names.delSet, to: &out)
            for (k, op) in zip(keys, operations) where !op.isSet { RESP.bulk(k, to: &out) }
            RESP.arguments(1 + dels, to: &out)
            RESP.bulk("DEL", to: &out)
            for (k, op) in zip(keys, operations) where !op.isSet { RESP.bulk(staging, k, to: &out) }
            queued += 2
        }
        let notifications = (keys.count + keysPerNotification - 1) / keysPerNotification
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
