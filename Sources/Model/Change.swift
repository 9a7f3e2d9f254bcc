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
    /// The keys of SETs over a stored value that is malformed (not a hash, or fields that do not
    /// parse): each is written as a DEL and a SET in one transaction, which orchagent pops as one
    /// SET that replaces the hash (spec §4). A plain SET would HSET over the old value: on one that
    /// is not a hash, orchagent's pop fails with WRONGTYPE after its SPOP, losing the other keys
    /// of that pop. Not journaled: after a restart the store is read again and decides anew.
    public let replacing: Set<NeighborKey>

    public init(id: UInt64, changes: [Change], replacing: Set<NeighborKey> = []) {
        self.id = id
        self.changes = changes
        self.replacing = replacing
    }
}
