import Model

/// The CONFIG_DB tables the policy depends on (spec §3).
public enum ConfigReader {
    public static let tables = [
        "INTERFACE", "VLAN_INTERFACE", "PORTCHANNEL_INTERFACE", "PEER_SWITCH", "VXLAN_EVPN_NVO",
    ]

    public static func policy(_ c: RedisConnection) throws(RedisError) -> Policy {
        var keys: [String] = []
        for t in tables { keys += try scanKeys(c, match: t + "|*") }
        return Policy(configDB: try hashes(c, keys).compactMapValues { $0 })
    }
}
