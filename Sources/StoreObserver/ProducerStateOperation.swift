import Model

/// One key's operation in a write to a ProducerStateTable: its key and, for a SET, one value per
/// field of the table (`ProducerStateTableNames.fields`, in that order).
public protocol ProducerStateOperation {
    var keyText: String { get }
    var isSet: Bool { get }
    /// The value of the table's field number `field` (a SET only).
    func value(ofField field: Int) -> String
    /// Appends that value as one RESP argument to `out`.
    func appendValue(ofField field: Int, to out: inout [UInt8])
    /// Appends `keyText`'s bytes to `out`.
    func appendKey(to out: inout [UInt8])
}

extension ProducerStateOperation {
    public func appendKey(to out: inout [UInt8]) { out.append(contentsOf: keyText.utf8) }
    public func appendValue(ofField field: Int, to out: inout [UInt8]) { RESP.bulk(value(ofField: field), to: &out) }
}

/// NEIGH_TABLE: `neigh` then `family`.
extension Change: ProducerStateOperation {
    public func value(ofField field: Int) -> String {
        guard case .set(_, let e) = self else { return "" }
        return field == 0 ? e.mac.description : e.family.description
    }

    /// The key's text goes straight into the buffer, as the MAC's does below.
    public func appendKey(to out: inout [UInt8]) {
        switch self {
        case .set(let k, _), .del(let k): k.appendText(to: &out)
        case .delMalformed(let raw): out.append(contentsOf: raw.utf8)
        }
    }

    /// The MAC's text goes straight into the buffer: the hot path lays out 100,000 of them.
    public func appendValue(ofField field: Int, to out: inout [UInt8]) {
        guard case .set(_, let e) = self, field == 0 else { return RESP.bulk(value(ofField: field), to: &out) }
        RESP.bulk(length: MACAddress.textLength, to: &out) { e.mac.appendText(to: &$0) }
    }
}

/// NEIGH_FAILED_TABLE: the single field `NULL` = `NULL`.
extension FailedNeighborChange: ProducerStateOperation {
    public var keyText: String { key.description }
    public var isSet: Bool { if case .set = self { true } else { false } }
    public func value(ofField field: Int) -> String { FailedNeighborChange.value }
}

/// A DEL of a key given as text, for tables whose keys are not neighbor keys (EVPN's
/// `ROUTE_TABLE` host route `<vrf>:<ip>`).
public struct KeyDeletion: ProducerStateOperation, Hashable, Sendable {
    public var keyText: String
    public var isSet: Bool { false }
    public init(_ key: String) { keyText = key }
    public func value(ofField field: Int) -> String { "" }
}
