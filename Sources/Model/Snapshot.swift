/// The store side as read from APPL_DB: every `NEIGH_TABLE` key with what it holds (or will hold
/// once pending ProducerStateTable operations are consumed), plus keys too broken to parse.
public struct StoreSnapshot: Hashable, Sendable {
    public var entries: [NeighborKey: StoredEntry]
    public var malformedKeys: Set<String>

    public init(entries: [NeighborKey: StoredEntry] = [:], malformedKeys: Set<String> = []) {
        self.entries = entries
        self.malformedKeys = malformedKeys
    }

    public init(valid: [NeighborKey: NeighborEntry]) {
        self.init(entries: valid.mapValues { .valid($0) })
    }
}

/// What the journal hands back at start: the last desired and acknowledged views and the batches
/// that were in flight. An empty image is a cold start.
public struct JournalImage: Hashable, Sendable {
    public var desired: [NeighborKey: NeighborEntry]
    public var actual: StoreSnapshot
    /// Written and not acknowledged, oldest first.
    public var inFlight: [Batch]
    public var lastBatchID: UInt64

    public init(
        desired: [NeighborKey: NeighborEntry] = [:],
        actual: StoreSnapshot = StoreSnapshot(),
        inFlight: [Batch] = [],
        lastBatchID: UInt64 = 0
    ) {
        self.desired = desired
        self.actual = actual
        self.inFlight = inFlight
        self.lastBatchID = lastBatchID
    }

    public static let empty = JournalImage()
}

extension StoreSnapshot {
    /// The store after an acknowledged batch.
    public mutating func apply(_ batch: Batch) {
        for c in batch.changes {
            switch c {
            case .set(let k, let e): entries[k] = .valid(e)
            case .del(let k): entries.removeValue(forKey: k)
            case .delMalformed(let raw): malformedKeys.remove(raw)
            }
        }
    }
}

extension Dictionary where Key == NeighborKey, Value == NeighborEntry {
    /// A desired view after a batch the daemon wrote: each set is a key's desired entry, each
    /// del a key with none (malformed keys were never desired).
    public mutating func apply(_ batch: Batch) {
        for c in batch.changes {
            switch c {
            case .set(let k, let e): self[k] = e
            case .del(let k): removeValue(forKey: k)
            case .delMalformed: break
            }
        }
    }
}

extension JournalImage {
    /// The meaning of each journal record; the SQLite journal stores exactly this.
    public mutating func apply(_ record: JournalRecord) {
        switch record {
        case .batchWritten(let b):
            // A batch carries the desired entry of each of its keys: the desired view follows it,
            // so it is never older than the store view it is compared with.
            desired.apply(b)
            inFlight.append(b)
            lastBatchID = max(lastBatchID, b.id)
        case .batchApplied(let b):
            actual.apply(b)
            inFlight.removeAll { $0.id == b.id }
            lastBatchID = max(lastBatchID, b.id)
        case .storeReloaded(let s):
            actual = s
            inFlight = []
        case .desiredReplaced(let d):
            desired = Dictionary(d.map { ($0.key, $0.entry) }, uniquingKeysWith: { _, last in last })
        }
    }
}
