/// A kernel neighbor (NUD) state. Spec §2 compares states by equality, never as a bit mask.
public struct NUDState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let none = NUDState(rawValue: 0x00)
    public static let incomplete = NUDState(rawValue: 0x01)
    public static let reachable = NUDState(rawValue: 0x02)
    public static let stale = NUDState(rawValue: 0x04)
    public static let delay = NUDState(rawValue: 0x08)
    public static let probe = NUDState(rawValue: 0x10)
    public static let failed = NUDState(rawValue: 0x20)
    public static let noarp = NUDState(rawValue: 0x40)
    public static let permanent = NUDState(rawValue: 0x80)

    static let names: [(NUDState, String)] = [
        (.incomplete, "INCOMPLETE"), (.reachable, "REACHABLE"), (.stale, "STALE"), (.delay, "DELAY"),
        (.probe, "PROBE"), (.failed, "FAILED"), (.noarp, "NOARP"), (.permanent, "PERMANENT"), (.none, "NONE"),
    ]

    /// The name `ip neigh` prints (`REACHABLE`, …), or the hex value for a combination.
    public var description: String {
        NUDState.names.first { $0.0 == self }?.1 ?? "0x" + String(rawValue, radix: 16)
    }

    /// Parses an `ip -j neigh` state name.
    public init?(name: String) {
        guard let s = NUDState.names.first(where: { $0.1 == name.uppercased() })?.0 else { return nil }
        self = s
    }
}

/// Neighbor flags from `ndm_flags` that the decision procedure looks at.
public struct NeighborFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let router = NeighborFlags(rawValue: 0x80)  // NTF_ROUTER
    public static let extLearned = NeighborFlags(rawValue: 0x10)  // NTF_EXT_LEARNED
}
