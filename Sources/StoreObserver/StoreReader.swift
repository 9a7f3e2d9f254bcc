import Model

/// Reads `NEIGH_TABLE` from APPL_DB: consumed entries overlaid with what is still pending, by
/// SCAN and pipelined HGETALL. Malformed entries are reported and returned for repair.
public enum StoreReader {
    public static func snapshot(_ c: RedisConnection, names: ProducerStateTableNames = .neighTable) throws(RedisError)
        -> (snapshot: StoreSnapshot, issues: [SnapshotIssue])
    {
        try content(c, names: names).snapshot(source: "APPL_DB")
    }

    /// The raw table: consumed entries, staging hashes, key set and delete set, as stored.
    public static func content(_ c: RedisConnection, names: ProducerStateTableNames = .neighTable) throws(RedisError) -> NeighTableContent {
        var content = NeighTableContent()
        let tableKeys = try scanKeys(c, match: names.tablePrefix + "*")
        for (k, h) in try hashes(c, tableKeys) { content.table[String(k.dropFirst(names.tablePrefix.count))] = h }
        let stagingKeys = try scanKeys(c, match: names.stagingPrefix + "*")
        for (k, h) in try hashes(c, stagingKeys) { content.staging[String(k.dropFirst(names.stagingPrefix.count))] = h }
        content.keySet = try members(c, names.keySet)
        content.delSet = try members(c, names.delSet)
        return content
    }

    static func members(_ c: RedisConnection, _ key: String) throws(RedisError) -> Set<String> {
        let r = try c.command(["SMEMBERS", key])
        return Set(r.array?.compactMap(\.string) ?? [])
    }
}

/// The CONFIG_DB tables the policy depends on (spec §3).
public enum ConfigReader {
    public static let tables = ["INTERFACE", "VLAN_INTERFACE", "PORTCHANNEL_INTERFACE", "PEER_SWITCH", "VXLAN_EVPN_NVO"]

    public static func policy(_ c: RedisConnection) throws(RedisError) -> Policy {
        var keys: [String] = []
        for t in tables { keys += try scanKeys(c, match: t + "|*") }
        return Policy(configDB: try hashes(c, keys).compactMapValues { $0 })
    }
}
