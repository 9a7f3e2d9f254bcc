// Reads of many keys at once, shared by the NEIGH_TABLE, CONFIG_DB and clear-pending paths.

/// All keys matching a pattern, by SCAN (never KEYS: it blocks the server).
func scanKeys(_ c: any RedisTransport, match pattern: String, count: Int = 10_000) throws(RedisError) -> [String] {
    var cursor = "0"
    var keys: [String] = []
    repeat {
        let r = try c.command(["SCAN", cursor, "MATCH", pattern, "COUNT", String(count)])
        guard let parts = r.array, parts.count == 2, let next = parts[0].string, let batch = parts[1].array else {
            throw RedisError(.reply, "SCAN: unexpected reply \(r)")
        }
        cursor = next
        keys += batch.compactMap(\.string)
    } while cursor != "0"
    return keys
}

/// HGETALL of many keys, pipelined. A key that is not a hash gives nil.
func hashes(_ c: RedisConnection, _ keys: [String]) throws(RedisError) -> [String: [String: String]?] {
    var out: [String: [String: String]?] = [:]
    out.reserveCapacity(keys.count)
    var start = 0
    while start < keys.count {
        let chunk = keys[start..<min(start + 1000, keys.count)]
        for k in chunk { try c.append(["HGETALL", k]) }
        for k in chunk { out[k] = .some(try c.replyFields()) }  // nil inside: not a hash (WRONGTYPE)
        start += 1000
    }
    return out
}
