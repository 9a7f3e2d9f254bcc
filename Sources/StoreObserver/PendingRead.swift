import CHiredis
import Model

/// The pending part of a ProducerStateTable: the key set, then for each pending key its delete-set
/// membership, staging hash and consumed hash, all three as of one instant. A key's three are read
/// by one script (Redis runs nothing else while it runs, orchagent's pops included), so a pop
/// falls before them or after, never between: popped before, the key reads as not deleted, no
/// staging fields, its consumed hash the popped result, which the overlay keeps as it is. Keys go
/// 1,000 to a script, pipelined, so Redis serves other clients between them (one script over
/// 100,000 pending keys held it for ~1 s). Nothing pending (the steady state): one SMEMBERS.
enum PendingRead {
    /// ARGV: staging prefix, table prefix, then keys; KEYS[1]: the delete set. Returns, per key,
    /// `1`/`0` (in the delete set; `-1` when the delete set is not a set), the staging hash and the
    /// consumed hash, each as its HGETALL array, or nil (Lua `false`) for a value that is not a hash.
    static let script = """
        local function fields(name)
          local r = redis.pcall('HGETALL', name)
          if r['err'] then return false end
          return r
        end
        local out = {}
        for i = 3, #ARGV do
          local key = ARGV[i]
          local deleted = redis.pcall('SISMEMBER', KEYS[1], key)
          if type(deleted) ~= 'number' then deleted = -1 end
          table.insert(out, deleted)
          table.insert(out, fields(ARGV[1] .. key))
          table.insert(out, fields(ARGV[2] .. key))
        end
        return out
        """

    static let keysPerScript = 1000

    /// The pending keys and, for each, what `NeighTableContent.snapshot` (orchagent's pop rules)
    /// needs; a pending key that is not UTF-8 names no key this daemon can write or delete:
    /// reported, left out.
    static func read(
        _ c: RedisConnection,
        names: ProducerStateTableNames,
        afterKeySet: () -> Void = {}
    ) throws(RedisError) -> (content: NeighTableContent, issues: [SnapshotIssue]) {
        var content = NeighTableContent()
        var issues: [SnapshotIssue] = []
        let keys = Array(
            try StoreReader.members(c, names.keySet) { raw in
                let reason = "pending key is not UTF-8; left in place (delete it by hand)"
                issues.append(SnapshotIssue(source: "APPL_DB", item: escapedBytes(raw), reason: reason))
            }
        )
        guard !keys.isEmpty else { return (content, issues) }
        afterKeySet()
        var delSetUnreadable = false
        var start = 0
        while start < keys.count {
            let chunk = keys[start..<min(start + keysPerScript, keys.count)]
            try c.append(["EVAL", script, "1", names.delSet, names.stagingPrefix, names.tablePrefix] + chunk)
            start += keysPerScript
        }
        start = 0
        while start < keys.count {
            let chunk = keys[start..<min(start + keysPerScript, keys.count)]
            try c.withReply { r throws(RedisError) in
                guard r.type == REDIS_REPLY_ARRAY, r.elements == 3 * chunk.count else {
                    throw RedisError(.reply, "pending read: unexpected reply (type \(r.type), \(r.elements) elements)")
                }
                for (i, key) in chunk.enumerated() {
                    content.keySet.insert(key)
                    if let d = r.element[3 * i]?.pointee, d.type == REDIS_REPLY_INTEGER {
                        if d.integer == 1 { content.delSet.insert(key) }
                        if d.integer == -1 { delSetUnreadable = true }
                    }
                    if let s = r.element[3 * i + 1]?.pointee { content.staging[key] = .some(Self.fields(s)) }
                    if let t = r.element[3 * i + 2]?.pointee { content.table[key] = .some(Self.fields(t)) }
                }
            }
            start += keysPerScript
        }
        if delSetUnreadable {
            let reason = "not a set; its pending DELs cannot be read (delete it by hand)"
            issues.append(SnapshotIssue(source: "APPL_DB", item: names.delSet, reason: reason))
        }
        return (content, issues)
    }

    /// An HGETALL's fields; nil when the value is not a hash.
    private static func fields(_ r: redisReply) -> [String: String]? {
        guard r.type == REDIS_REPLY_ARRAY else { return nil }
        var out: [String: String] = [:]
        out.reserveCapacity(r.elements / 2)
        var i = 0
        while i + 1 < r.elements {
            if let f = r.element[i]?.pointee, let v = r.element[i + 1]?.pointee {
                out[String(decoding: RESP.bytes(f), as: UTF8.self)] = String(decoding: RESP.bytes(v), as: UTF8.self)
            }
            i += 2
        }
        return out
    }
}
