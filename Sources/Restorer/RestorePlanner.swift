import Model

/// What the restorer knows of an interface at the start of a pass.
public struct InterfaceReadiness: Equatable, Sendable {
    /// `/sys/class/net/<if>/carrier` is 1.
    public var carrierUp: Bool
    /// STATE_DB holds a `VLAN_MEMBER_TABLE|<if>|*` or `LAG_MEMBER_TABLE|<if>|*` key.
    public var hasMembers: Bool

    public init(carrierUp: Bool, hasMembers: Bool) {
        self.carrierUp = carrierUp
        self.hasMembers = hasMembers
    }
}

/// The neighbors still to restore, by interface, and which of them a pass may install now.
/// Pure: the caller reads readiness and talks to the kernel.
public struct RestorePlanner: Sendable {
    /// Entries not yet installed, by interface.
    public private(set) var waiting: [InterfaceName: [NeighborKey: NeighborEntry]] = [:]
    /// Keys left out of the restore, with why (logged once by the caller).
    public private(set) var skipped: [(key: String, reason: String)] = []

    /// Groups APPL_DB's entries by interface; `lo` is not restored (upstream skips it), a
    /// malformed entry (no `neigh` or `family`, bad value) is skipped.
    public init(entries: [NeighborKey: StoredEntry], malformedKeys: Set<String> = []) {
        for (key, stored) in entries.sorted(by: { $0.key < $1.key }) {
            guard let entry = stored.entry else {
                skipped.append((key.description, "malformed entry (needs neigh and family)"))
                continue
            }
            if key.interface.rawValue == "lo" { continue }
            waiting[key.interface, default: [:]][key] = entry
        }
        for raw in malformedKeys.sorted() { skipped.append((raw, "malformed key (needs <ifname>:<ip>)")) }
    }

    public var isDone: Bool { waiting.isEmpty }

    /// `Vlan*` and `PortChannel*` need a member in STATE_DB before their neighbors can be added.
    public static func needsMembers(_ interface: InterfaceName) -> Bool {
        interface.rawValue.hasPrefix("Vlan") || interface.rawValue.hasPrefix("PortChannel")
    }

    public static func isReady(_ interface: InterfaceName, _ r: InterfaceReadiness) -> Bool {
        r.carrierUp && (r.hasMembers || !needsMembers(interface))
    }

    /// Takes the interfaces that are ready now out of `waiting`, in name order.
    public mutating func takeReady(
        _ readiness: (InterfaceName) -> InterfaceReadiness
    ) -> [(interface: InterfaceName, entries: [NeighborKey: NeighborEntry])] {
        var ready: [(interface: InterfaceName, entries: [NeighborKey: NeighborEntry])] = []
        for interface in waiting.keys.sorted() where Self.isReady(interface, readiness(interface)) {
            if let entries = waiting.removeValue(forKey: interface) { ready.append((interface, entries)) }
        }
        return ready
    }

    /// Puts entries back for the next pass (the kernel said ENETDOWN: the link went down meanwhile).
    public mutating func retry(_ entries: [NeighborKey: NeighborEntry]) {
        for (key, entry) in entries { waiting[key.interface, default: [:]][key] = entry }
    }
}
