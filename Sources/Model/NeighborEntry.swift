/// The value of a `NEIGH_TABLE` entry: fields `neigh` then `family`.
public struct NeighborEntry: Hashable, Sendable, CustomStringConvertible {
    public var mac: MACAddress
    public var family: AddressFamily

    public init(mac: MACAddress, family: AddressFamily) {
        self.mac = mac
        self.family = family
    }

    /// The field/value pairs in the order the ProducerStateTable writes them.
    public var fields: [(String, String)] { [("neigh", mac.description), ("family", family.description)] }

    public var description: String { "neigh:\(mac), family:\(family)" }
}

/// What the store holds for a key: a well-formed entry, or something that must be repaired.
public enum StoredEntry: Hashable, Sendable {
    case valid(NeighborEntry)
    /// Present in the store but unusable (missing field, bad MAC, wrong family, wrong type).
    /// The reason is reported when the store is read; keeping it out keeps entries small.
    case malformed

    public var entry: NeighborEntry? {
        if case .valid(let e) = self { return e }
        return nil
    }
}
