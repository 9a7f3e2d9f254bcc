import Model

/// Keys whose store entry may differ from the desired view, in the order they became dirty.
/// Each key appears once; a batch takes keys from the front, so batches come out in a
/// deterministic order and a key marked again while queued keeps its place.
struct DirtyQueue: Sendable {
    private var order: [NeighborKey] = []
    private var head = 0
    private var members: Set<NeighborKey> = []
    /// Keys ever taken from the front; with `enqueuedTotal`, a position in the stream of work.
    private(set) var dequeuedTotal = 0
    private(set) var enqueuedTotal = 0

    var count: Int { members.count }
    var isEmpty: Bool { members.isEmpty }

    func contains(_ key: NeighborKey) -> Bool { members.contains(key) }

    mutating func insert(_ key: NeighborKey) {
        guard members.insert(key).inserted else { return }
        order.append(key)
        enqueuedTotal += 1
    }

    /// Room for `n` more keys, so a resync's worth does not grow the set by doubling.
    mutating func reserve(_ n: Int) {
        members.reserveCapacity(members.count + n)
        order.reserveCapacity(order.count - head + n)
    }

    mutating func popFirst() -> NeighborKey? {
        guard head < order.count else { return nil }
        let k = order[head]
        head += 1
        dequeuedTotal += 1
        members.remove(k)
        if members.isEmpty {
            // Drained: let a resync's worth of storage go instead of keeping its capacity.
            order = []
            members = []
            head = 0
        } else if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        return k
    }
}
