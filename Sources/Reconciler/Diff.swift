import Model

/// The minimal change that makes the store hold `desired` for one key, or nil when it already
/// does. A key the store does not hold and the kernel does not want gets no DEL (see
/// docs/state-machine.md, "Minimality").
@inlinable
public func minimalChange(for key: NeighborKey, desired: NeighborEntry?, actual: StoredEntry?) -> Change? {
    if let d = desired {
        if case .valid(let a)? = actual, a == d { return nil }
        return .set(key, d)
    }
    return actual == nil ? nil : .del(key)
}

/// A whole-table comparison of desired and actual: what to change, and how much already agrees.
public struct Plan: Hashable, Sendable {
    public var changes: [Change]
    public var unchanged: Int

    public var setCount: Int { changes.lazy.filter(\.isSet).count }
    public var delCount: Int { changes.count - setCount }
    public var isEmpty: Bool { changes.isEmpty }

    /// Changes ordered by key text, for stable output.
    public var sorted: [Change] { changes.sorted { $0.keyText < $1.keyText } }

    /// The plan cut into batches of at most `maxSize` changes, one operation per key.
    public func batches(maxSize: Int, firstID: UInt64 = 1) -> [Batch] {
        precondition(maxSize > 0, "batch size must be positive")
        return stride(from: 0, to: changes.count, by: maxSize).enumerated().map { i, start in
            Batch(id: firstID + UInt64(i), changes: Array(changes[start..<min(start + maxSize, changes.count)]))
        }
    }
}

/// Compares two whole views. Linear in their sizes; the second pass (deletes) is skipped when
/// every store key was already matched.
public func diff(desired: [NeighborKey: NeighborEntry], actual: StoreSnapshot) -> Plan {
    var changes: [Change] = []
    var unchanged = 0, matched = 0
    for (key, want) in desired {
        let have = actual.entries[key]
        if have != nil { matched += 1 }
        if let c = minimalChange(for: key, desired: want, actual: have) { changes.append(c) } else { unchanged += 1 }
    }
    if matched < actual.entries.count {
        for key in actual.entries.keys where desired[key] == nil { changes.append(.del(key)) }
    }
    for raw in actual.malformedKeys { changes.append(.delMalformed(raw)) }
    return Plan(changes: changes, unchanged: unchanged)
}
