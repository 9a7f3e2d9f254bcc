import CHiredis
import Model

/// The pending part of a ProducerStateTable, read in one step: key set, delete set, and for each
/// pending key its staging hash and its consumed hash, all as of one instant. One read-only
/// script (Redis runs nothing else while it runs, orchagent's pops included), so no pop can fall
/// between the key set and the hashes. It costs one round trip when nothing is pending (the
/// steady state); with 100,000 keys pending (a cold start before orchagent runs) the script
/// holds the server for the time of their HGETALLs, as the pipelined reads did on the wire.
enum PendingRead {
    /// Returns `{}` when nothing is pending; else `{keys, deletes, staging1, consumed1, …}`, a
    /// hash as its HGETALL array, a value that is not a hash as nil (Lua `false`).
    static let script = """
        local keys = redis.call('SMEMBERS', KEYS[1])
        if #keys == 0 then return {} end
        local out = {keys, redis.call('SMEMBERS', KEYS[2])}
        local function fields(name)
          local r = redis.pcall('HGETALL', name)
          if r['err'] then return false end
          return r
        end
        for _, key in ipairs(keys) do
          table.insert(out, fields(ARGV[1] .. key))
          table.insert(out, fields(ARGV[2] .. key))
        end
        return out
        """

    /// The pending keys and, for each, its staging and consumed hashes, as `NeighTableContent`
    /// (whose `snapshot` holds orchagent's pop rules); a pending key that is not UTF-8 names no
    /// key this daemon can write or delete: reported, left out.
    static func read(
        _ c: RedisConnection,
        names: ProducerStateTableNames
    ) throws(RedisError) -> (content: NeighTableContent, issues: [SnapshotIssue]) {
        try c.append(["EVAL", script, "2", names.keySet, names.delSet, names.stagingPrefix, names.tablePrefix])
        return try c.withReply { r throws(RedisError) in
            var content = NeighTableContent()
            var issues: [SnapshotIssue] = []
            guard r.type == REDIS_REPLY_ARRAY else {
                throw RedisError(.reply, "pending read: unexpected reply type \(r.type)")
            }
            guard r.elements > 0 else { return (content, issues) }
            guard let keys = r.element[0]?.pointee, let dels = r.element[1]?.pointee,
                keys.type == REDIS_REPLY_ARRAY, dels.type == REDIS_REPLY_ARRAY,
                r.elements == 2 + 2 * keys.elements
            else { throw RedisError(.reply, "pending read: unexpected reply shape") }
            for i in 0..<dels.elements {
                if let d = dels.element[i]?.pointee, let text = Self.text(d) { content.delSet.insert(text) }
            }
            for i in 0..<keys.elements {
                guard let k = keys.element[i]?.pointee else { continue }
                guard let key = Self.text(k) else {
                    let reason = "pending key is not UTF-8; left in place (delete it by hand)"
                    issues.append(SnapshotIssue(source: "APPL_DB", item: escapedBytes(RESP.bytes(k)), reason: reason))
                    continue
                }
                content.keySet.insert(key)
                if let s = r.element[2 + 2 * i]?.pointee { content.staging[key] = .some(Self.fields(s)) }
                if let t = r.element[3 + 2 * i]?.pointee { content.table[key] = .some(Self.fields(t)) }
            }
            return (content, issues)
        }
    }

    private static func text(_ r: redisReply) -> String? {
        guard r.type == REDIS_REPLY_STRING else { return nil }
        return String(validating: RESP.bytes(r), as: UTF8.self)
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
