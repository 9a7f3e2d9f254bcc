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

/// Compares two whole views. Linear in their sizes, plus sorting the changes; the second pass
/// (deletes) is skipped when every store key was already matched. Large views are split across
/// cores: the work is bound by memory latency (one random lookup per key).
///
/// The changes come out in plan order (`sortInPlanOrder`), malformed keys last in text order:
/// both views are hash tables, whose order changes from process to process, so an order taken
/// from them would give other batches, another journal and another run for the same views.
public func diff(desired: [NeighborKey: NeighborEntry], actual: StoreSnapshot) -> Plan {
    diff(over: desired, entry: { _, e in e }, actual: actual)
}

/// The same comparison over a view the desired entries are derived from: `entry` gives the
/// desired entry of a key and its value (nil: the store should not hold the key). The daemon
/// derives them from its kernel view, so it keeps no desired table.
func diff<Value: Sendable>(
    over view: [NeighborKey: Value],
    entry: (NeighborKey, Value) -> NeighborEntry?,
    actual: StoreSnapshot
) -> Plan {
    let parts =
        view.count + actual.entries.count >= 200_000 ? min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)) : 1
    var changes: [Change] = []
    var unchanged = 0
    var matched = 0

    let wanted = inParallel(chunks(of: view, parts)) { range in
        var part = Part()
        for (key, value) in view[range] {
            guard let want = entry(key, value) else { continue }
            let have = actual.entries[key]
            if have != nil { part.matched += 1 }
            if let c = minimalChange(for: key, desired: want, actual: have) {
                part.changes.append(c)
            } else {
                part.unchanged += 1
            }
        }
        return part
    }
    for p in wanted {
        changes += p.changes
        unchanged += p.unchanged
        matched += p.matched
    }

    if matched < actual.entries.count {
        let stale = inParallel(chunks(of: actual.entries, parts)) { range in
            var part = Part()
            for (key, _) in actual.entries[range] where view[key].flatMap({ entry(key, $0) }) == nil {
                part.changes.append(.del(key))
            }
            return part
        }
        for p in stale { changes += p.changes }
    }
    sortInPlanOrder(&changes, key: keyOfSetOrDel)
    changes += actual.malformedKeys.sorted().map { .delMalformed($0) }
    return Plan(changes: changes, unchanged: unchanged)
}

/// The key of a set or a del (malformed keys are ordered apart, by their text).
private func keyOfSetOrDel(_ c: Change) -> NeighborKey {
    switch c {
    case .set(let k, _), .del(let k): return k
    case .delMalformed: preconditionFailure("a malformed key is not ordered with the parsed ones")
    }
}

/// Puts `items` in plan order: by a fixed 64-bit mix of the key, then (for the rare keys whose
/// mixes agree in the bits compared) by `NeighborKey`'s `<`. A total order that no hash seed
/// changes, unlike the order of the hash tables the items come from; it means nothing to a
/// reader (`Plan.sorted` is for them), but it is cheap. What is sorted is one integer per item,
/// the mix's high bits with the item's index below them, by radix; the items are then moved
/// into place, never copied. A 100,000-neighbor cold start sorts twice (the journal's desired
/// view and the plan): sorting the items themselves by `<` cost it 50% more instructions, this 8%.
func sortInPlanOrder<T>(_ items: inout [T], key: (T) -> NeighborKey) {
    guard items.count > 1 else { return }
    let indexBits = UInt64.bitWidth - UInt64(items.count - 1).leadingZeroBitCount
    let indexMask = UInt64.max >> (UInt64.bitWidth - indexBits)
    var order = items.indices.map { i in key(items[i]).planMix & ~indexMask | UInt64(i) }
    radixSort(&order, fromBit: indexBits)
    // Runs whose mixes agree above the index: put them in key order.
    var start = 0
    while start < order.count {
        var end = start + 1
        while end < order.count && order[end] & ~indexMask == order[start] & ~indexMask { end += 1 }
        if end - start > 1 {
            order[start..<end].sort { key(items[Int($0 & indexMask)]) < key(items[Int($1 & indexMask)]) }
        }
        start = end
    }
    // Position i takes the item at index `order[i]`: follow each cycle of moves, marking each
    // position done by pointing it at itself.
    items.withUnsafeMutableBufferPointer { items in
        for i in order.indices {
            var to = i
            var from = Int(truncatingIfNeeded: order[i] & indexMask)
            while from != i {
                items.swapAt(to, from)
                order[to] = UInt64(to)
                to = from
                from = Int(truncatingIfNeeded: order[to] & indexMask)
            }
            order[to] = UInt64(to)
        }
    }
}

/// Sorts by the bits from `lowestBit` up, 8 bits per pass, least significant first: linear
/// whatever the values (keys an attacker picks included). `sort()` compared 100,000 integers
/// in as much time as the rest of a cold start's diff took; 16 bits per pass took half the
/// passes, but its 65,536 counters missed the cache at every count. Values equal in those bits
/// keep their order.
private func radixSort(_ values: inout [UInt64], fromBit lowestBit: Int) {
    guard values.count > 256 else { return values.sort() }  // fewer values than buckets
    var spare = [UInt64](repeating: 0, count: values.count)
    var starts = [Int](repeating: 0, count: 1 << 8)
    starts.withUnsafeMutableBufferPointer { starts in
        for shift in stride(from: UInt64(lowestBit), to: 64, by: 8) {
            values.withUnsafeMutableBufferPointer { from in
                spare.withUnsafeMutableBufferPointer { to in
                    starts.update(repeating: 0)
                    for v in from { starts[Int(truncatingIfNeeded: v >> shift & 0xFF)] += 1 }
                    var total = 0
                    for i in starts.indices { (starts[i], total) = (total, total + starts[i]) }
                    for v in from {
                        let b = Int(truncatingIfNeeded: v >> shift & 0xFF)
                        to[starts[b]] = v
                        starts[b] += 1
                    }
                }
            }
            swap(&values, &spare)
        }
    }
}

extension NeighborKey {
    /// The key's fields combined (one-to-one for keys on one interface), then avalanched
    /// (MurmurHash3's finalizer), so that the high bits depend on every field.
    fileprivate var planMix: UInt64 {
        var h =
            interface.fingerprint &* 0x9E37_79B9_7F4A_7C15 ^ ip.low ^ (ip.high &* 0xC2B2_AE3D_27D4_EB4F)
            ^ UInt64(ip.family.rawValue) << 59
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
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
                out.value[i] = body.value(ranges[i])  // each iteration writes its own slot
            }
        }
    }
    return results
}
