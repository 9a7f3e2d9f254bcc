/// The CONFIG_DB settings the decision procedure depends on (spec §3).
public struct Policy: Hashable, Sendable {
    /// A `PEER_SWITCH|*` key exists.
    public var dualToR: Bool
    /// `VXLAN_EVPN_NVO` has an entry.
    public var evpn: Bool
    /// Interfaces whose `ipv6_use_link_local_only` is `enable` in the table their name selects.
    public var linkLocalInterfaces: Set<InterfaceName>

    public init(dualToR: Bool = false, evpn: Bool = false, linkLocalInterfaces: Set<InterfaceName> = []) {
        self.dualToR = dualToR
        self.evpn = evpn
        self.linkLocalInterfaces = linkLocalInterfaces
    }

    /// The CONFIG_DB table that holds an interface's settings, chosen by its name prefix.
    public static func interfaceTable(for name: InterfaceName) -> String? {
        let n = name.rawValue
        if n.hasPrefix("Vlan") { return "VLAN_INTERFACE" }
        if n.hasPrefix("PortChannel") { return "PORTCHANNEL_INTERFACE" }
        if n.hasPrefix("Ethernet") { return "INTERFACE" }
        return nil
    }

    /// Link-local neighbors are learnt only where the right table enables it (`isLinkLocalEnabled`).
    public func isLinkLocalEnabled(on name: InterfaceName) -> Bool {
        Policy.interfaceTable(for: name) != nil && linkLocalInterfaces.contains(name)
    }

    /// `ipv6_use_link_local_only` settings that are neither `enable` nor `disable`: read as
    /// disabled (as upstream reads them), and reported, since `true` or `1` was surely meant otherwise.
    public static func doubtfulSettings(configDB: [String: [String: String]], source: String) -> [SnapshotIssue] {
        configDB.compactMap { key, fields in
            guard let value = fields["ipv6_use_link_local_only"], value != "enable", value != "disable" else {
                return nil
            }
            let reason = "ipv6_use_link_local_only is \"\(value)\", not \"enable\" or \"disable\"; read as disabled"
            return SnapshotIssue(source: source, item: key, reason: reason)
        }
    }

    /// Builds the policy from CONFIG_DB hashes keyed `TABLE|key` (as `sonic-db-dump` names them).
    public init(configDB: [String: [String: String]]) {
        self.init()
        for (fullKey, fields) in configDB {
            let parts = fullKey.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let table = String(parts[0])
            let key = parts[1]
            switch table {
            case "PEER_SWITCH":
                dualToR = true
            case "VXLAN_EVPN_NVO":
                evpn = true
            case "VLAN_INTERFACE", "PORTCHANNEL_INTERFACE", "INTERFACE":
                // Only the interface's own hash counts, not its `name|prefix` address keys.
                guard !key.contains("|"), let name = InterfaceName(key),
                    Policy.interfaceTable(for: name) == table,
                    fields["ipv6_use_link_local_only"] == "enable"
                else { continue }
                linkLocalInterfaces.insert(name)
            default:
                continue
            }
        }
    }
}
