import Model

/// ifindex → interface name (and master), kept current from link dumps and RTM_NEWLINK /
/// RTM_DELLINK, renames included. Links whose names cannot be keys are kept apart as refused.
public struct LinkTable: Sendable {
    public struct Link: Hashable, Sendable {
        public var name: InterfaceName
        public var master: Int32?
    }

    public private(set) var links: [Int32: Link] = [:]
    /// Links whose names are not acceptable (not UTF-8, a control character…), with the name's
    /// bytes. Their neighbors are never published: not under a lossy name (two links could
    /// share it) and not under the numeric fallback either (the link is known, just unusable).
    public private(set) var refused: [Int32: [UInt8]] = [:]
    /// Lookups that fell back to the numeric name (spec §2 rule 3).
    public private(set) var numericFallbacks = 0

    public init() {}

    /// Applies a link message; true when the keys of the link's neighbors change: an existing
    /// link renamed, removed or refused, or a refused one renamed to an acceptable name.
    @discardableResult
    public mutating func apply(_ m: LinkMessage) -> Bool {
        if m.deleted {
            refused[m.index] = nil
            return links.removeValue(forKey: m.index) != nil
        }
        if let bytes = m.refusedName {
            refused[m.index] = bytes
            return links.removeValue(forKey: m.index) != nil
        }
        guard let name = m.name else { return false }
        let wasRefused = refused.removeValue(forKey: m.index) != nil
        let old = links.updateValue(Link(name: name, master: m.master), forKey: m.index)
        return wasRefused || (old != nil && old?.name != name)
    }

    /// The name for an ifindex; the decimal index when the link is unknown; nil when the link
    /// is refused (its neighbors are skipped).
    public mutating func name(of index: Int32) -> InterfaceName? {
        if let l = links[index] { return l.name }
        if refused[index] != nil { return nil }
        numericFallbacks += 1
        return InterfaceName(numericFallback: index)
    }

    public func master(of index: Int32) -> InterfaceName? {
        links[index]?.master.flatMap { links[$0]?.name }
    }
}

/// A link whose name cannot be part of an APPL_DB key, reported once per name it takes.
public struct RefusedLink: Hashable, Sendable, CustomStringConvertible {
    public var index: Int32
    /// IFLA_IFNAME as the kernel sent it.
    public var name: [UInt8]

    public var description: String {
        "interface \(index) named \"\(escapedBytes(name))\" refused (not UTF-8, or a control character, "
            + "white space, '/' or ':' in it); its neighbors are not published"
    }
}
