/// One operation on APPL_DB `NEIGH_FAILED_TABLE` (spec §12): on a dual-ToR, an IPv6 neighbor the
/// kernel reported FAILED is handed to nbrmgrd, which moves it back to INCOMPLETE and sends one
/// NS; the row is removed once the neighbor is valid again or deleted.
public enum FailedNeighborChange: Hashable, Sendable, CustomStringConvertible {
    /// Write the row `<key>` with the single field `NULL` = `NULL`.
    case set(NeighborKey)
    case del(NeighborKey)

    public var key: NeighborKey {
        switch self {
        case .set(let k), .del(let k): k
        }
    }

    public var description: String {
        switch self {
        case .set(let k): "SET \(k)"
        case .del(let k): "DEL \(k)"
        }
    }

    /// The row's one field and its value, as upstream writes them.
    public static let field = "NULL"
    public static let value = "NULL"
}

extension NUDState {
    /// The states upstream's failed-table check counts as resolved (`VALID_NEIGH_STATES`):
    /// PERMANENT, NOARP, REACHABLE, PROBE, STALE, DELAY. Unlike the rules of spec §2 it is a bit
    /// test (`state & VALID_NEIGH_STATES`), so NONE, INCOMPLETE and FAILED are not valid.
    public static let validStatesMask: UInt16 = 0x80 | 0x40 | 0x02 | 0x10 | 0x04 | 0x08

    /// A state that removes the neighbor's failed-table row (upstream's bit test).
    public var isValidForFailedTable: Bool { rawValue & NUDState.validStatesMask != 0 }
}
