import Dispatch
import Foundation
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

    public init(changes: [Change], unchanged: Int) {
        self.changes = changes
        self.unchanged = unchanged
    }

    public var setCount: Int { changes.lazy.filter(\.isSet).count }
    public var delCount: Int { changes.count - setCount }
    public var isEmpty: Bool { changes.isEmpty }

    /// Changes ordered by key text, for stable output. Each key's text is made once, not per
    /// comparison (a 500,000-change plan spent more time formatting addresses than sorting).
    public var sorted: [Change] {
        changes.map { ($0.keyText, $0) }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The plan cut into batches of at most `maxSize` changes, one operation per key.
    public func batches(maxSize: Int, firstID: UInt64 = 1) -> [Batch] {
        precondition(maxSize > 0, "batch size must be positive")
        return stride(from: 0, to: changes.count, by: maxSize).enumerated().map { i, start in
            Batch(id: firstID + UInt64(i), changes: Array(changes[start..<min(start + maxSize, changes.count)]))
        }
    }
}

/// Compares two whole views. Linear in their sizes; the second pass (deletes) is skipped when
/// every store key was already matched. Large views are split across cores: the work is
/// bound by memory latency (one random lookup per key), and chunks are joined in order, so
/// the plan is the same as a sequential run's.
public func diff(desired: [NeighborKey: NeighborEntry], actual: StoreSnapshot) -> Plan {
    diff(over: desired, entry: { _, e in e }, actual: actual)
}

/// The same comparison over a view the desired entries are derived from: `entry` gives the
/// desired entry of a key and its value (nil: the store should not hold the key). The daemon
/// derives them from its kernel view, so it keeps no desired table.
func diff<Value: Sendable>(over view: [NeighborKey: Value], entry: (NeighborKey, Value) -> NeighborEntry?, actual: StoreSnapshot) -> Plan {
    let parts = view.count + actual.entries.count >= 200_000 ? min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)) : 1
    var changes: [Change] = []
    var unchanged = 0, matched = 0

    let wanted = inParallel(chunks(of: view, parts)) { range in
        var part = Part()
        for (key, value) in view[range] {
            guard let want = entry(key, value) else { continue }
            let have = actual.entries[key]
            if have != nil { part.matched += 1 }
            if let c = minimalChange(for: key, desired: want, actual: have) { part.changes.append(c) } else { part.unchanged += 1 }
        }
        return part
    }
    for p in wanted { changes += p.changes; unchanged += p.unchanged; matched += p.matched }

    if matched < actual.entries.count {
        let stale = inParallel(chunks(of: actual.entries, parts)) { range in
            var part = Part()
            for (key, _) in actual.entries[range] where view[key].flatMap({ entry(key, $0) }) == nil { part.changes.append(.del(key)) }
            return part
        }
        for p in stale { changes += p.changes }
    }
    for raw in actual.malformedKeys { changes.append(.delMalformed(raw)) }
    return Plan(changes: changes, unchanged: unchanged)
}

private struct Part: Sendable {
    var changes: [Change] = []
    var unchanged = 0
    var matched = 0
}

private func chunks<C: Collection>(of c: C, _ parts: Int) -> [Range<C.Index>] {
    var bounds = [c.startIndex]
    var i = c.startIndex
    for _ in 1..<max(parts, 1) {
        i = c.index(i, offsetBy: c.count / parts, limitedBy: c.endIndex) ?? c.endIndex
        bounds.append(i)
    }
    bounds.append(c.endIndex)
    return zip(bounds, bounds.dropFirst()).map { $0..<$1 }
}

/// Runs `body` on each range, concurrently when there is more than one, results in order.
private func inParallel<I: Sendable>(_ ranges: [I], _ body: (I) -> Part) -> [Part] {
    guard ranges.count > 1 else { return ranges.map(body) }
    var results = [Part](repeating: Part(), count: ranges.count)
    results.withUnsafeMutableBufferPointer { out in
        let out = UncheckedSendable(out)
        withoutActuallyEscaping(body) { body in
            let body = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: ranges.count) { i in
                out.value[i] = body.value(ranges[i])   // each iteration writes its own slot
            }
        }
    }
    return results
}
