import Model

/// What the restorer knows of an interface at the start of a pass.
public struct InterfaceReadiness: Equatable, Sendable {
    /// `/sys/class/net/<if>/carrier` is 1.
    public var carrierUp: Bool
    /// For `Vlan*`: STATE_DB holds a `VLAN_MEMBER_TABLE|<if>|*` key (ignored for other names).
    public var hasMembers: Bool
    /// The interface's first IPv4 address: ARP probes come from it, and IPv4 neighbors wait for it.
    public var ipv4: IPAddress?
    /// The interface's first IPv6 address (link-local counts): NS probes come from it, and IPv6
    /// neighbors wait for it.
    public var ipv6: IPAddress?

    public init(carrierUp: Bool, hasMembers: Bool, ipv4: IPAddress? = nil, ipv6: IPAddress? = nil) {
        self.carrierUp = carrierUp
        self.hasMembers = hasMembers
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    /// The address upstream's `first_ip_on_intf(intf, family)` would find, or nil.
    public func source(for family: AddressFamily) -> IPAddress? {
        family == .ipv4 ? ipv4 : ipv6
    }
}
