import Model
import Restorer
import Testing

@Suite struct RestorePlannerTests {
    static func key(_ s: String) -> NeighborKey {
        guard let k = NeighborKey(s) else { preconditionFailure("bad test key \(s)") }
        return k
    }
    static func entry(_ mac: String, _ f: AddressFamily) -> StoredEntry {
        guard let m = MACAddress(mac) else { preconditionFailure("bad test MAC \(mac)") }
        return .valid(NeighborEntry(mac: m, family: f))
    }

    @Test func modeFromWarmRestartEnableTable() {
        #expect(WarmRestartMode(systemEnable: nil, swssEnable: nil) == .cold)
        #expect(WarmRestartMode(systemEnable: "false", swssEnable: "false") == .cold)
        #expect(WarmRestartMode(systemEnable: nil, swssEnable: "true") == .containerOnly)
        #expect(WarmRestartMode(systemEnable: "true", swssEnable: nil) == .systemReboot)
        #expect(WarmRestartMode(systemEnable: "true", swssEnable: "true") == .systemReboot)
        #expect(WarmRestartMode(systemEnable: "TRUE", swssEnable: nil) == .cold)
    }

    @Test func skipsLoopbackAndMalformed() {
        let p = RestorePlanner(
            entries: [
                Self.key("lo:10.0.0.1"): Self.entry("00:01:02:03:04:05", .ipv4),
                Self.key("Ethernet0:10.0.0.2"): Self.entry("00:01:02:03:04:06", .ipv4),
                Self.key("Ethernet0:10.0.0.3"): .malformed,
            ],
            malformedKeys: ["nocolon"]
        )
        #expect(p.waiting.keys.map(\.rawValue) == ["Ethernet0"])
        #expect(p.waiting.values.first?.count == 1)
        #expect(p.skipped.map(\.key) == ["Ethernet0:10.0.0.3", "nocolon"])
    }

    @Test func readinessNeedsCarrierAndMembersForVlanAndLag() {
        var p = RestorePlanner(entries: [
            Self.key("Ethernet0:10.0.0.2"): Self.entry("00:01:02:03:04:06", .ipv4),
            Self.key("Ethernet4:fc00::2"): Self.entry("00:01:02:03:04:07", .ipv6),
            Self.key("Vlan1000:192.168.0.2"): Self.entry("00:01:02:03:04:08", .ipv4),
            Self.key("PortChannel1:10.1.0.2"): Self.entry("00:01:02:03:04:09", .ipv4),
        ])
        // Pass 1: carrier everywhere but Ethernet4; no members anywhere.
        let first = p.takeReady { i in InterfaceReadiness(carrierUp: i.rawValue != "Ethernet4", hasMembers: false) }
        #expect(first.map(\.interface.rawValue) == ["Ethernet0"])
        #expect(!p.isDone)
        // Pass 2: all up, members for the VLAN only.
        let second = p.takeReady { i in InterfaceReadiness(carrierUp: true, hasMembers: i.rawValue == "Vlan1000") }
        #expect(second.map(\.interface.rawValue) == ["Ethernet4", "Vlan1000"])
        #expect(p.waiting.keys.map(\.rawValue) == ["PortChannel1"])
        // ENETDOWN on Ethernet4: back in the queue with its entries.
        p.retry(second[0].entries)
        #expect(Set(p.waiting.keys.map(\.rawValue)) == ["Ethernet4", "PortChannel1"])
        let third = p.takeReady { _ in InterfaceReadiness(carrierUp: true, hasMembers: true) }
        #expect(third.map(\.interface.rawValue) == ["Ethernet4", "PortChannel1"])
        #expect(third[0].entries.count == 1)
        #expect(p.isDone)
    }
}
