import Model

/// Why a message was dropped: the rule of spec §2 that matched.
public enum IgnoreReason: String, Hashable, Sendable, CaseIterable {
    case messageType = "rule 1: not a NEW/GET/DEL message"
    case family = "rule 2: not AF_INET/AF_INET6"
    case noDestination = "rule 2: no usable NDA_DST"
    case ipv4LinkLocalOnDualToR = "rule 5: 169.254.0.0/16 on a dual-ToR"
    case ipv6LinkLocalNotEnabled = "rule 6: fe80::/10 and link-local not enabled on the interface"
    case ipv6MulticastLinkLocal = "rule 7: ff02::/16"
    case evpnProbe = "rule 8: EVPN and NUD_PROBE"
    case noarp = "rule 9: NUD_NOARP without NTF_EXT_LEARNED"
    case noLinkLayerAddress = "rule 14: no link-layer address"
    case broadcastMAC = "rule 15: broadcast MAC"
    /// Upstream aborts here (spec §2 "Lladdr not 6 bytes"); we drop the message and say so.
    case linkLayerAddressNotMAC = "rule 14: link-layer address is not 6 bytes"
}

/// The outcome of the per-message decision procedure.
public enum Decision: Hashable, Sendable {
    case ignore(IgnoreReason)
    /// `hostRouteVRF`: EVPN only, the VRF whose `ROUTE_TABLE` host route goes first.
    case set(NeighborKey, NeighborEntry, hostRouteVRF: InterfaceName?)
    case del(NeighborKey)

    /// The entry a SET publishes; nil for DEL and ignore.
    public var entry: NeighborEntry? {
        if case .set(_, let e, _) = self { return e }
        return nil
    }
}

/// Spec §2, rule by rule and in the spec's order. Rule 0 (the dual-ToR lookup) and rule 3 (name
/// resolution) happen before: the first is `policy.dualToR`, the second is `message.interface`.
public func decide(_ m: NeighborMessage, policy: Policy) -> Decision {
    // 1. Message type.
    let isDelete: Bool
    switch m.type {
    case .newNeighbor, .getNeighbor: isDelete = false
    case .deleteNeighbor: isDelete = true
    case .other: return .ignore(.messageType)
    }
    // 2. Family.
    guard m.family == KernelFamily.inet || m.family == KernelFamily.inet6 else { return .ignore(.family) }
    guard let ip = m.destination, ip.family.rawValue == m.family else { return .ignore(.noDestination) }
    let key = NeighborKey(interface: m.interface, ip: ip)
    // 4. EVPN: the master device (VRF) decides whether a host route is removed first.
    let vrf = policy.evpn ? m.master.flatMap { $0.rawValue.hasPrefix("Vrf") ? $0 : nil } : nil
    // 5.
    if ip.isIPv4LinkLocal && policy.dualToR { return .ignore(.ipv4LinkLocalOnDualToR) }
    // 6. A link-local DEL always passes.
    if ip.isIPv6LinkLocal && !isDelete && !policy.isLinkLocalEnabled(on: m.interface) {
        return .ignore(.ipv6LinkLocalNotEnabled)
    }
    // 7.
    if ip.isIPv6MulticastLinkLocal { return .ignore(.ipv6MulticastLinkLocal) }
    // 8.
    if policy.evpn && m.type == .newNeighbor && m.state == .probe { return .ignore(.evpnProbe) }
    // 9. Applies to DELNEIGH too.
    if !policy.evpn && m.state == .noarp && !m.flags.contains(.extLearned) { return .ignore(.noarp) }

    // 10–13 choose between SET and DEL.
    let unresolved = m.state == .incomplete || m.state == .failed
    let mac: MACAddress
    if policy.dualToR && unresolved {  // 10
        if isDelete { return .del(key) }
        mac = .zero
    } else if isDelete || unresolved {  // 11
        return .del(key)
    } else if policy.evpn && m.state == .noarp && !m.flags.contains(.extLearned) {  // 12
        return .del(key)
    } else {  // 12 (ext-learned), 13
        switch m.linkLayerAddress {  // 14
        case .mac(let parsed): mac = parsed
        case .absent, .otherLength(0): return .ignore(.noLinkLayerAddress)
        case .otherLength: return .ignore(.linkLayerAddressNotMAC)
        }
    }
    if mac == .broadcast { return .ignore(.broadcastMAC) }  // 15
    return .set(key, NeighborEntry(mac: mac, family: ip.family), hostRouteVRF: vrf)
}

/// What a neighbor contributes to the desired view: the SET a fresh NEWNEIGH for it would make.
/// The desired view is thus a function of the kernel's current table and the policy only.
public func desiredEntry(for key: NeighborKey, _ n: KernelNeighbor, policy: Policy) -> NeighborEntry? {
    decide(NeighborMessage(.newNeighbor, key, n), policy: policy).entry
}
