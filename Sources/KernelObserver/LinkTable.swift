import Model

/// ifindex → interface name (and master), kept current from link dumps and RTM_NEWLINK /
/// RTM_DELLINK, renames included.
public struct LinkTable: Sendable {
    public struct Link: Hashable, Sendable {
        public var name: InterfaceName
        public var master: Int32?
    }

    public private(set) var links: [Int32: Link] = [:]
    /// Lookups that fell back to the numeric name (spec §2 rule 3).
    public private(set) var numericFallbacks = 0

    public init() {}

    /// Applies a link message; true when an existing link was renamed or removed, which
    /// changes the keys of its neighbors.
    @discardableResult
    public mutating func apply(_ m: LinkMessage) -> Bool {
        if m.deleted { return links.removeValue(forKey: m.index) != nil }
        guard let name = m.name else { return false }
        let old = links.updateValue(Link(name: name, master: m.master), forKey: m.index)
        return old != nil && old?.name != name
    }

    /// The name for an ifindex; the decimal index when the link is unknown.
    public mutating func name(of index: Int32) -> InterfaceName {
        if let l = links[index] { return l.name }
        numericFallbacks += 1
        return InterfaceName(numericFallback: index)
    }

    public func master(of index: Int32) -> InterfaceName? {
        links[index]?.master.flatMap { links[$0]?.name }
    }
}
