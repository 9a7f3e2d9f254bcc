import Model
import Testing

@testable import Reconciler

/// One example per row of spec §2, in the spec's order.
@Suite struct DecisionTests {
    static let eth0 = InterfaceName("Ethernet0")!
    static let mac = MACAddress("00:01:02:03:04:05")!

    static func msg(
        _ ip: String,
        _ state: NUDState = .reachable,
        type: NeighborMessageType = .newNeighbor,
        lladdr: LinkLayerAddress = .mac(mac),
        flags: NeighborFlags = [],
        on name: String = "Ethernet0",
        family: UInt8? = nil,
        master: String? = nil
    ) -> NeighborMessage {
        let addr = IPAddress(ip)!
        return NeighborMessage(
            type: type,
            family: family ?? addr.family.rawValue,
            interface: InterfaceName(name)!,
            master: master.flatMap { InterfaceName($0) },
            destination: addr,
            linkLayerAddress: lladdr,
            state: state,
            flags: flags
        )
    }

    static func set(_ key: String, _ mac: MACAddress = mac, vrf: String? = nil) -> Decision {
        let k = NeighborKey(key)!
        return .set(k, NeighborEntry(mac: mac, family: k.ip.family), hostRouteVRF: vrf.flatMap { InterfaceName($0) })
    }

    static let plain = Policy()
    static let dualToR = Policy(dualToR: true)
    static let evpn = Policy(evpn: true)

    @Test func rule1_otherMessageTypesAreIgnored() {
        #expect(decide(Self.msg("10.0.0.1", type: .other(24)), policy: Self.plain) == .ignore(.messageType))
        #expect(decide(Self.msg("10.0.0.1", type: .getNeighbor), policy: Self.plain) == Self.set("Ethernet0:10.0.0.1"))
    }

    @Test func rule2_onlyInetFamilies() {
        #expect(decide(Self.msg("10.0.0.1", family: KernelFamily.bridge), policy: Self.plain) == .ignore(.family))
        #expect(decide(Self.msg("10.0.0.1", family: KernelFamily.inet6), policy: Self.plain) == .ignore(.noDestination))
        let v6 = decide(Self.msg("2000::2"), policy: Self.plain)
        #expect(v6.entry?.family.description == "IPv6")
    }

    @Test func rule3_numericNameAndNoInterfaceFilter() {
        var m = Self.msg("10.0.0.1")
        m.interface = InterfaceName(numericFallback: 42)
        #expect(decide(m, policy: Self.plain) == Self.set("42:10.0.0.1"))
        for name in ["eth0", "lo", "docker0", "Bridge"] {
            #expect(decide(Self.msg("10.0.0.1", on: name), policy: Self.plain) == Self.set("\(name):10.0.0.1"))
        }
    }

    @Test func rule4_evpnVRFMasterRemovesTheHostRouteFirst() {
        #expect(
            decide(Self.msg("10.0.0.1", master: "Vrf_red"), policy: Self.evpn)
                == Self.set("Ethernet0:10.0.0.1", vrf: "Vrf_red")
        )
        #expect(decide(Self.msg("10.0.0.1", master: "Bridge"), policy: Self.evpn) == Self.set("Ethernet0:10.0.0.1"))
        #expect(decide(Self.msg("10.0.0.1", master: "Vrf_red"), policy: Self.plain) == Self.set("Ethernet0:10.0.0.1"))
    }

    @Test func rule5_ipv4LinkLocalIgnoredOnDualToR() {
        #expect(decide(Self.msg("169.254.0.1"), policy: Self.dualToR) == .ignore(.ipv4LinkLocalOnDualToR))
        #expect(
            decide(Self.msg("169.254.0.1", type: .deleteNeighbor), policy: Self.dualToR)
                == .ignore(.ipv4LinkLocalOnDualToR)
        )
        #expect(decide(Self.msg("169.254.0.1"), policy: Self.plain) == Self.set("Ethernet0:169.254.0.1"))
    }

    @Test func rule6_ipv6LinkLocalNeedsTheInterfaceSetting() {
        let on = Policy(linkLocalInterfaces: [Self.eth0, InterfaceName("eth0")!])
        #expect(decide(Self.msg("fe80::1"), policy: Self.plain) == .ignore(.ipv6LinkLocalNotEnabled))
        #expect(decide(Self.msg("fe80::1"), policy: on) == Self.set("Ethernet0:fe80::1"))
        #expect(
            decide(Self.msg("fe80::1", type: .deleteNeighbor), policy: Self.plain)
                == .del(NeighborKey("Ethernet0:fe80::1")!)
        )
        // Only Vlan*, PortChannel* and Ethernet* names have a table to enable it in.
        #expect(decide(Self.msg("fe80::1", on: "eth0"), policy: on) == .ignore(.ipv6LinkLocalNotEnabled))
    }

    @Test func rule7_multicastLinkLocalIgnored() {
        #expect(decide(Self.msg("ff02::1"), policy: Self.plain) == .ignore(.ipv6MulticastLinkLocal))
        #expect(
            decide(Self.msg("ff02::16", type: .deleteNeighbor), policy: Self.plain) == .ignore(.ipv6MulticastLinkLocal)
        )
        #expect(decide(Self.msg("ff05::1"), policy: Self.plain) == Self.set("Ethernet0:ff05::1"))
    }

    @Test func rule8_evpnProbeIgnored() {
        #expect(decide(Self.msg("10.0.0.1", .probe), policy: Self.evpn) == .ignore(.evpnProbe))
        #expect(decide(Self.msg("10.0.0.1", .probe), policy: Self.plain) == Self.set("Ethernet0:10.0.0.1"))
    }

    @Test func rule9_noarpWithoutExtLearnedIgnored() {
        #expect(decide(Self.msg("10.0.0.1", .noarp), policy: Self.plain) == .ignore(.noarp))
        #expect(decide(Self.msg("10.0.0.1", .noarp, type: .deleteNeighbor), policy: Self.plain) == .ignore(.noarp))
        #expect(
            decide(Self.msg("10.0.0.1", .noarp, flags: .extLearned), policy: Self.plain)
                == Self.set("Ethernet0:10.0.0.1")
        )
    }

    @Test func rule10_dualToRUnresolvedGetsZeroMAC() {
        #expect(
            decide(Self.msg("10.0.0.1", .failed, lladdr: .absent), policy: Self.dualToR)
                == Self.set("Ethernet0:10.0.0.1", .zero)
        )
        #expect(
            decide(Self.msg("2000::2", .incomplete, lladdr: .absent), policy: Self.dualToR)
                == Self.set("Ethernet0:2000::2", .zero)
        )
        #expect(
            decide(Self.msg("10.0.0.1", .failed, type: .deleteNeighbor), policy: Self.dualToR)
                == .del(NeighborKey("Ethernet0:10.0.0.1")!)
        )
    }

    @Test func rule11_deleteIncompleteFailedAreDel() {
        let k = NeighborKey("Ethernet0:10.0.0.1")!
        #expect(decide(Self.msg("10.0.0.1", type: .deleteNeighbor), policy: Self.plain) == .del(k))
        #expect(decide(Self.msg("10.0.0.1", .incomplete, lladdr: .absent), policy: Self.plain) == .del(k))
        #expect(decide(Self.msg("10.0.0.1", .failed, lladdr: .absent), policy: Self.plain) == .del(k))
    }

    @Test func rule12_evpnNoarpDependsOnExtLearned() {
        #expect(decide(Self.msg("10.0.0.1", .noarp), policy: Self.evpn) == .del(NeighborKey("Ethernet0:10.0.0.1")!))
        #expect(
            decide(Self.msg("10.0.0.1", .noarp, flags: .extLearned), policy: Self.evpn)
                == Self.set("Ethernet0:10.0.0.1")
        )
    }

    @Test(arguments: [NUDState.reachable, .stale, .delay, .probe, .permanent, .none])
    func rule13_otherStatesAreSet(_ state: NUDState) {
        #expect(decide(Self.msg("10.0.0.1", state), policy: Self.plain) == Self.set("Ethernet0:10.0.0.1"))
    }

    @Test func rule14_noUsableLinkLayerAddressIgnored() {
        #expect(decide(Self.msg("10.0.0.1", lladdr: .absent), policy: Self.plain) == .ignore(.noLinkLayerAddress))
        #expect(
            decide(Self.msg("10.0.0.1", lladdr: .otherLength(0)), policy: Self.plain) == .ignore(.noLinkLayerAddress)
        )
        // Upstream aborts on these (spec §2); here they are dropped and counted.
        #expect(
            decide(Self.msg("10.0.0.1", lladdr: .otherLength(4)), policy: Self.plain)
                == .ignore(.linkLayerAddressNotMAC)
        )
        #expect(
            decide(Self.msg("10.0.0.1", lladdr: .otherLength(20)), policy: Self.plain)
                == .ignore(.linkLayerAddressNotMAC)
        )
    }

    @Test func rule15_broadcastIgnoredZeroPublished() {
        #expect(decide(Self.msg("10.0.0.1", lladdr: .mac(.broadcast)), policy: Self.plain) == .ignore(.broadcastMAC))
        #expect(
            decide(Self.msg("10.0.0.1", lladdr: .mac(.zero)), policy: Self.plain)
                == Self.set("Ethernet0:10.0.0.1", .zero)
        )
    }
}
