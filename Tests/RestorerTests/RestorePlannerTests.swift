import Model
import Restorer
import Testing

@Suite struct RestorePlannerTests {
    static func key(_ s: String) throws -> NeighborKey { try #require(NeighborKey(s)) }
    static func entry(_ mac: String, _ f: AddressFamily) throws -> StoredEntry {
        .valid(NeighborEntry(mac: try #require(MACAddress(mac)), family: f))
    }
    static func ip(_ s: String) throws -> IPAddress { try #require(IPAddress(s)) }

    @Test func modeAsCheckWarmStartWithoutIncrement() {
        #expect(WarmRestartMode(systemEnabled: false, swssEnabled: false, hasRestoreCount: true) == .cold)
        #expect(WarmRestartMode(systemEnabled: false, swssEnabled: true, hasRestoreCount: true) == .containerOnly)
        #expect(WarmRestartMode(systemEnabled: true, swssEnabled: false, hasRestoreCount: true) == .systemReboot)
        #expect(WarmRestartMode(systemEnabled: true, swssEnabled: true, hasRestoreCount: true) == .systemReboot)
        // Enabled without restore_count: checkWarmStart falls back to a cold start.
        #expect(WarmRestartMode(systemEnabled: true, swssEnabled: true, hasRestoreCount: false) == .cold)
        #expect(WarmRestartMode(systemEnabled: false, swssEnabled: true, hasRestoreCount: false) == .cold)
    }

    @Test func skipsLoopbackAndMalformed() throws {
        let p = RestorePlanner(entries: [
            try Self.key("lo:10.0.0.1"): try Self.entry("00:01:02:03:04:05", .ipv4),
            try Self.key("Ethernet0:10.0.0.2"): try Self.entry("00:01:02:03:04:06", .ipv4),
            try Self.key("Ethernet0:10.0.0.3"): .malformed,
        ])
        #expect(p.waiting.keys.map(\.rawValue) == ["Ethernet0"])
        #expect(p.count == 1)
    }

    @Test func readinessNeedsCarrierAndMembersForVlanOnly() throws {
        let v4 = try Self.ip("10.9.0.1")
        var p = RestorePlanner(entries: [
            try Self.key("Ethernet0:10.0.0.2"): try Self.entry("00:01:02:03:04:06", .ipv4),
            try Self.key("Ethernet4:10.0.4.2"): try Self.entry("00:01:02:03:04:07", .ipv4),
            try Self.key("Vlan1000:192.168.0.2"): try Self.entry("00:01:02:03:04:08", .ipv4),
            try Self.key("PortChannel1:10.1.0.2"): try Self.entry("00:01:02:03:04:09", .ipv4),
        ])
        // Pass 1: carrier everywhere but Ethernet4; no members anywhere: a PortChannel needs none.
        let first = p.takeReady { i in
            InterfaceReadiness(carrierUp: i.rawValue != "Ethernet4", hasMembers: false, ipv4: v4)
        }
        #expect(first.map(\.interface.rawValue) == ["Ethernet0", "PortChannel1"])
        #expect(!p.isDone)
        // Pass 2: all up, members for the VLAN.
        let second = p.takeReady { i in InterfaceReadiness(carrierUp: true, hasMembers: true, ipv4: v4) }
        #expect(second.map(\.interface.rawValue) == ["Ethernet4", "Vlan1000"])
        #expect(p.isDone)
        // ENETDOWN on Ethernet4: back in the queue with its entries.
        p.retry(second[0].entries)
        #expect(p.waiting.keys.map(\.rawValue) == ["Ethernet4"])
        let third = p.takeReady { _ in InterfaceReadiness(carrierUp: true, hasMembers: true, ipv4: v4) }
        #expect(third.map(\.interface.rawValue) == ["Ethernet4"])
        #expect(third[0].entries.count == 1)
        #expect(p.isDone)
    }

    /// Upstream restores a family only once `first_ip_on_intf` finds an address of it, and probes
    /// from that address: carrier alone is not enough.
    @Test func familyWaitsForAnAddressOfItsFamily() throws {
        let v4 = try Self.ip("10.0.0.1")
        let linkLocal = try Self.ip("fe80::1")
        var p = RestorePlanner(entries: [
            try Self.key("Ethernet0:10.0.0.2"): try Self.entry("00:01:02:03:04:06", .ipv4),
            try Self.key("Ethernet0:fc00::2"): try Self.entry("00:01:02:03:04:06", .ipv6),
            try Self.key("Ethernet8:fc00::8"): try Self.entry("00:01:02:03:04:08", .ipv6),
        ])
        let first = p.takeReady { _ in InterfaceReadiness(carrierUp: true, hasMembers: false, ipv4: v4) }
        #expect(first.map { "\($0.interface) \($0.family)" } == ["Ethernet0 IPv4"])
        #expect(first.first?.source == v4)
        #expect(p.waitingSummary == "Ethernet0 IPv6 (1), Ethernet8 IPv6 (1)")
        // A link-local address is enough for IPv6, as upstream's.
        let second = p.takeReady { i in
            InterfaceReadiness(carrierUp: true, hasMembers: false, ipv6: i.rawValue == "Ethernet0" ? linkLocal : nil)
        }
        #expect(second.map { "\($0.interface) \($0.family)" } == ["Ethernet0 IPv6"])
        #expect(second.first?.source == linkLocal)
        #expect(p.waitingSummary == "Ethernet8 IPv6 (1)")
    }

    @Test func refusalsAreSummedPerInterfaceAndErrno() throws {
        var summary = RefusalSummary()
        for i in [5, 3, 1, 4, 2] { summary.add(try Self.key("Ethernet0:10.0.0.\(i)"), errno: 22) }
        summary.add(try Self.key("Ethernet4:10.0.4.1"), errno: 19)
        #expect(summary.total == 6)
        #expect(summary.lines.count == 2)
        #expect(summary.lines[0].hasPrefix("kernel refused 5 neighbors on Ethernet0: "))
        let first3 = "Ethernet0:10.0.0.1, Ethernet0:10.0.0.2, Ethernet0:10.0.0.3, …"
        #expect(summary.lines[0].hasSuffix("(errno 22): \(first3)"))
        #expect(summary.lines[1].hasSuffix("(errno 19): Ethernet4:10.0.4.1"))
    }
}
