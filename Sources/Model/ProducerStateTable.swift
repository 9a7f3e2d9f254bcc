/// The Redis names of a SONiC ProducerStateTable (spec §4), for `NEIGH_TABLE` on APPL_DB.
public struct ProducerStateTableNames: Hashable, Sendable {
    public var table: String
    public var databaseID: Int

    public init(table: String, databaseID: Int) {
        self.table = table
        self.databaseID = databaseID
    }

    public static let neighTable = ProducerStateTableNames(table: "NEIGH_TABLE", databaseID: 0)

    public var keySet: String { "\(table)_KEY_SET" }
    public var delSet: String { "\(table)_DEL_SET" }
    /// `NEIGH_TABLE:` — consumed entries, written only by the consumer.
    public var tablePrefix: String { "\(table):" }
    /// `_NEIGH_TABLE:` — staging hashes.
    public var stagingPrefix: String { "_\(table):" }
    public var channel: String { "\(table)_CHANNEL@\(databaseID)" }
    /// The payload of each notification.
    public static let notification = "G"

    public func stagingKey(_ key: String) -> String { stagingPrefix + key }
    public func tableKey(_ key: String) -> String { tablePrefix + key }
}

/// The single-key Lua scripts whose effects a consumer expects (spec §4): the same effects as
/// SONiC's producer, written here from that description.
public enum ProducerStateTableScript {
    /// KEYS: channel, key set, staging hash per field. ARGV: payload, key, field, value, …
    public static let set = """
        local added = redis.call('SADD', KEYS[2], ARGV[2])
        for i = 3, #KEYS do redis.call('HSET', KEYS[i], ARGV[2 * i - 3], ARGV[2 * i - 2]) end
        if added > 0 then redis.call('PUBLISH', KEYS[1], ARGV[1]) end
        """
    /// KEYS: channel, key set, staging hash, delete set. ARGV: payload, key, '', ''.
    public static let del = """
        local added = redis.call('SADD', KEYS[2], ARGV[2])
        redis.call('SADD', KEYS[4], ARGV[2])
        redis.call('DEL', KEYS[3])
        if added > 0 then redis.call('PUBLISH', KEYS[1], ARGV[1]) end
        """

    /// The EVAL command (as arguments) that carries out one change, as upstream sends it.
    public static func command(for change: Change, names: ProducerStateTableNames = .neighTable) -> [String] {
        let key = change.keyText
        let staging = names.stagingKey(key)
        switch change {
        case .set(_, let e):
            return ["EVAL", set, "4", names.channel, names.keySet, staging, staging,
                    ProducerStateTableNames.notification, key, "neigh", e.mac.description, "family", e.family.description]
        case .del, .delMalformed:
            return ["EVAL", del, "4", names.channel, names.keySet, staging, names.delSet,
                    ProducerStateTableNames.notification, key, "", ""]
        }
    }
}
