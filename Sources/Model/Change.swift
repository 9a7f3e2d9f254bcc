/// One ProducerStateTable operation on `NEIGH_TABLE`.
public enum Change: Hashable, Sendable {
    case set(NeighborKey, NeighborEntry)
    case del(NeighborKey)
    /// Delete a store key that does not even parse as `<ifname>:<ip>` (repair of garbage).
    case delMalformed(String)

    /// The key text as written to APPL_DB.
    public var keyText: String {
        switch self {
        case .set(let k, _), .del(let k): return k.description
        case .delMalformed(let raw): return raw
        }
    }

    public var isSet: Bool { if case .set = self { return true } else { return false } }
}

/// A bounded group of changes written together and acknowledged together.
public struct Batch: Hashable, Sendable {
    public let id: UInt64
    public let changes: [Change]

    public init(id: UInt64, changes: [Change]) {
        self.id = id
        self.changes = changes
    }
}
