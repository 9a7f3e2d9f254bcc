import Model

/// orchagent's side of the ProducerStateTable (spec §4), for tests and the demo: pops keys with
/// the same effects as `consumer_state_table_pops.lua`, so one can see what orchagent would see.
public final class ConsumerStateTable {
    public let connection: RedisConnection
    public let names: ProducerStateTableNames
    private var sha: String?

    public init(connection: RedisConnection, names: ProducerStateTableNames = .neighTable) {
        self.connection = connection
        self.names = names
    }

    /// For each popped key: if it was in the delete set, `NEIGH_TABLE:<key>` is deleted; the
    /// staging fields are copied into it and the staging hash removed. Returns `[key, op]` pairs.
    static let script = """
        local keys = redis.call('SPOP', ARGV[1], tonumber(ARGV[5]))
        local out = {}
        for _, key in ipairs(keys) do
          if redis.call('SREM', ARGV[2], key) == 1 then redis.call('DEL', ARGV[4] .. key) end
          local fields = redis.call('HGETALL', ARGV[3] .. key)
          if #fields > 0 then
            for i = 1, #fields, 2 do redis.call('HSET', ARGV[4] .. key, fields[i], fields[i + 1]) end
            redis.call('DEL', ARGV[3] .. key)
            table.insert(out, key); table.insert(out, 'SET')
          else
            table.insert(out, key); table.insert(out, 'DEL')
          end
        end
        return out
        """

    /// Pops up to `count` keys. Returns (key, "SET"|"DEL") in pop order.
    public func pop(count: Int = 128) throws(RedisError) -> [(key: String, op: String)] {
        if sha == nil {
            guard let s = try connection.command(["SCRIPT", "LOAD", Self.script]).string else {
                throw RedisError(.reply, "SCRIPT LOAD failed")
            }
            sha = s
        }
        let r = try connection.command([
            "EVALSHA", sha ?? "", "0", names.keySet, names.delSet, names.stagingPrefix, names.tablePrefix,
            String(count),
        ])
        guard let items = r.array else { throw RedisError(.reply, "pop: \(r)") }
        return stride(from: 0, to: items.count - 1, by: 2).compactMap { i in
            guard let k = items[i].string, let op = items[i + 1].string else { return nil }
            return (k, op)
        }
    }

    /// Pops until the key set is empty.
    @discardableResult
    public func drain() throws(RedisError) -> Int {
        var total = 0
        while true {
            let n = try pop(count: 1000).count
            if n == 0 { return total }
            total += n
        }
    }
}
