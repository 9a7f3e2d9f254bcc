import Foundation
import Model
import NetNamespace
import Restorer
import Testing

/// The installer against the real kernel, in a private namespace.
@Suite(.serialized) struct KernelInstallerTests {
    static func neighbors(_ interface: String, count: Int) -> [NeighborKey: NeighborEntry] {
        var out: [NeighborKey: NeighborEntry] = [:]
        for i in 0..<count {
            let ip = IPAddress(ipv4: 0x0A00_0000 | UInt32(i + 2))
            guard let name = InterfaceName(interface) else { continue }
            out[NeighborKey(interface: name, ip: ip)] = NeighborEntry(
                mac: MACAddress(rawValue: 0x0200_0000_0000 | UInt64(i)),
                family: .ipv4
            )
        }
        return out
    }

    /// Lines of `ip neigh show nud all dev <if>` in state `state`, NOARP multicast entries excluded.
    static func shown(_ ns: Namespace, _ interface: String, state: String) throws -> [String] {
        try ns.ip("neigh", "show", "nud", "all", "dev", interface).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasSuffix(state) }
    }

    @Test func installsBatchesAsStaleAndTakesEEXISTAsDone() throws {
        let ns = try Namespace(what: "restore")
        try ns.ip("link", "add", "Ethernet0", "type", "veth", "peer", "name", "peer0")
        try ns.ip("link", "add", "Vlan1000", "type", "bridge")
        for l in ["Ethernet0", "peer0", "Vlan1000"] { try ns.ip("link", "set", l, "up") }
        guard let eth = InterfaceName("Ethernet0"), let vlan = InterfaceName("Vlan1000") else { return }
        // More than one batch on Ethernet0 (batch of 64), one on the bridge.
        let onEth = Self.neighbors("Ethernet0", count: 300)
        var onVlan: [NeighborKey: NeighborEntry] = [:]
        if let ip = IPAddress("fc00::2"), let mac = MACAddress("00:01:02:03:04:05") {
            onVlan[NeighborKey(interface: vlan, ip: ip)] = NeighborEntry(mac: mac, family: .ipv6)
        }
        let (first, second, bridge) = try ns.inside {
            let installer = try KernelInstaller(batchSize: 64)
            return (
                try installer.install(onEth, on: eth), try installer.install(onEth, on: eth),
                try installer.install(onVlan, on: vlan)
            )
        }
        #expect(first.count == 300 && first.values.allSatisfy { $0 == .installed })
        #expect(second.count == 300 && second.values.allSatisfy { $0 == .installed })  // EEXIST
        #expect(bridge.values.map { $0 } == [.installed])
        #expect(try Self.shown(ns, "Ethernet0", state: "STALE").count == 300)
        let line = try ns.ip("neigh", "show", "nud", "all", "dev", "Ethernet0", "to", "10.0.0.2")
        #expect(line.contains("lladdr 02:00:00:00:00:00") && line.contains("STALE"))
        #expect(
            try ns.ip("neigh", "show", "nud", "all", "dev", "Vlan1000").contains("fc00::2 lladdr 00:01:02:03:04:05")
        )
    }

    /// The kernel takes neighbors on a link that is down (readiness is the planner's job, by
    /// carrier); an interface that does not exist fails its entries with ENODEV, and no others.
    @Test func missingInterfaceFailsItsEntries() throws {
        let ns = try Namespace(what: "restore")
        try ns.ip("link", "add", "Ethernet4", "type", "veth", "peer", "name", "peer4")
        guard let eth = InterfaceName("Ethernet4"), let gone = InterfaceName("Ethernet8") else { return }
        let entries = Self.neighbors("Ethernet4", count: 3)
        let moved = Dictionary(
            uniqueKeysWithValues: entries.map { (NeighborKey(interface: gone, ip: $0.key.ip), $0.value) }
        )
        let (missing, present) = try ns.inside {
            let installer = try KernelInstaller()
            return (try installer.install(moved, on: gone), try installer.install(entries, on: eth))
        }
        #expect(missing.count == 3 && missing.values.allSatisfy { $0 == .failed(errno: ENODEV) })
        #expect(present.count == 3 && present.values.allSatisfy { $0 == .installed })
        #expect(try Self.shown(ns, "Ethernet4", state: "STALE").count == 3)
    }
}
