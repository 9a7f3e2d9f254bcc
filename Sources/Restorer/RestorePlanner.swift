import Model

/// One interface's neighbors of one family, ready to install, with the address to probe them from.
public struct RestoreGroup: Sendable {
    public var interface: InterfaceName
    public var family: AddressFamily
    public var source: IPAddress
    public var entries: [NeighborKey: NeighborEntry]
}

/// The neighbors still to restore, by interface and family, and which of them a pass may install
/// now. Pure: the caller reads readiness and talks to the kernel.
public struct RestorePlanner: Sendable {
    /// Entries not yet installed, by interface, then by their address's family.
    public private(set) var waiting: [InterfaceName: [AddressFamily: [NeighborKey: NeighborEntry]]] = [:]

    /// Groups APPL_DB's valid entries by interface and family; `lo` is not restored (upstream
    /// skips it). Malformed entries are left out (the caller logs the snapshot's issues).
    public init(entries: [NeighborKey: StoredEntry]) {
        for (key, stored) in entries {
            guard let entry = stored.entry, key.interface.rawValue != "lo" else { continue }
            waiting[key.interface, default: [:]][key.ip.family, default: [:]][key] = entry
        }
    }

    public var isDone: Bool { waiting.isEmpty }

    /// How many entries are still waiting.
    public var count: Int { waiting.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }

    /// `Vlan*` needs a member in STATE_DB before its neighbors can be added (as upstream, which
    /// checks only VLANs: a PortChannel's carrier is already up only once teamd selected a member).
    public static func needsMembers(_ interface: InterfaceName) -> Bool {
        interface.rawValue.hasPrefix("Vlan")
    }

    public static func isUp(_ interface: InterfaceName, _ r: InterfaceReadiness) -> Bool {
        r.carrierUp && (r.hasMembers || !needsMembers(interface))
    }

    /// Takes out of `waiting` each family of each interface that is up and has an address of that
    /// family (upstream's `first_ip_on_intf`), in name then family order. A family without an
    /// address keeps waiting.
    public mutating func takeReady(_ readiness: (InterfaceName) -> InterfaceReadiness) -> [RestoreGroup] {
        var ready: [RestoreGroup] = []
        for interface in waiting.keys.sorted() {
            let r = readiness(interface)
            guard Self.isUp(interface, r), var families = waiting[interface] else { continue }
            for family in AddressFamily.allCases {
                guard let source = r.source(for: family), let entries = families.removeValue(forKey: family)
                else { continue }
                ready.append(RestoreGroup(interface: interface, family: family, source: source, entries: entries))
            }
            waiting[interface] = families.isEmpty ? nil : families
        }
        return ready
    }

    /// Puts entries back for the next pass (the kernel said ENETDOWN: the link went down meanwhile).
    public mutating func retry(_ entries: [NeighborKey: NeighborEntry]) {
        for (key, entry) in entries { waiting[key.interface, default: [:]][key.ip.family, default: [:]][key] = entry }
    }

    /// What is still waiting, for the timeout's log line: `Ethernet4 IPv6 (3)`, in name order.
    public var waitingSummary: String {
        waiting.keys.sorted().flatMap { interface in
            AddressFamily.allCases.compactMap { family in
                waiting[interface]?[family].map { "\(interface) \(family) (\($0.count))" }
            }
        }.joined(separator: ", ")
    }
}
