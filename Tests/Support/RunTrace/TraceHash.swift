import Model

/// A hash of a whole run: every event fed to the core and every effect it returned, in order.
/// FNV-1a over each line's text, so it is the same in every process (`Hasher` is seeded per
/// process) and two runs compare by one number.
public struct TraceHash: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    public private(set) var lines = 0

    public init() {}

    public mutating func add(_ line: String) {
        for b in line.utf8 { value = (value ^ UInt64(b)) &* 0x100_0000_01b3 }
        value = (value ^ 0x0A) &* 0x100_0000_01b3
        lines += 1
    }
}

/// An event as text that does not depend on hash order: sets and tables in it are printed
/// sorted, so the trace differs only if the core's order does.
public func canonical(_ e: Event) -> String {
    switch e {
    case .started(let c): "started(warm: \(c.warmStart), timer: \(c.reconcileTimerSeconds), \(canonical(c.policy)))"
    case .storeLoaded(let s, let failed):
        "storeLoaded(\(canonical(s)), failed: \(failed.map { $0.map(\.description).sorted() } ?? ["not read"]))"
    case .policyChanged(let p): "policyChanged(\(canonical(p)))"
    default: String(describing: e)
    }
}

/// An effect as text: the desired view's list is printed in the order the core gave it.
public func canonical(_ e: Effect) -> String {
    switch e {
    case .journal(.storeReloaded(let s)): "journal(storeReloaded(\(canonical(s))))"
    default: String(describing: e)
    }
}

public func canonical(_ s: StoreSnapshot) -> String {
    let entries = s.entries.map { "\($0.key)=\($0.value)" }.sorted()
    return "entries: \(entries), malformed: \(s.malformedKeys.sorted())"
}

public func canonical(_ p: Policy) -> String {
    "dualToR: \(p.dualToR), evpn: \(p.evpn), linkLocal: \(p.linkLocalInterfaces.map(\.rawValue).sorted())"
}
