import Model
import Shell

/// A journal whose records are committed `latency` of virtual time after the one before them,
/// with the meaning the SQLite journal stores (`JournalImage.apply`). `crash()` is a kill -9: the
/// records still queued are gone, the committed image is what the next start replays.
public final class FakeJournal: JournalSink {
    private let clock: () -> UInt64
    public var latencyNanoseconds: UInt64 = 300_000
    /// What a start after a crash replays.
    public private(set) var image: JournalImage
    private var queued: [(record: JournalRecord, commitAt: UInt64)] = []
    private var submitted: UInt64 = 0
    public private(set) var batchesCommittedThrough: UInt64 = 0
    /// The ids of the batches whose `batchWritten` record is committed.
    public private(set) var committedBatches: Set<UInt64> = []
    public let fileDescriptor: Int32 = -1
    public let errors = 0

    public init(image: JournalImage = .empty, clock: @escaping () -> UInt64) {
        self.image = image
        self.clock = clock
    }

    public func submit(_ record: JournalRecord) -> UInt64 {
        let start = max(clock(), queued.last?.commitAt ?? 0)
        queued.append((record, start + latencyNanoseconds))
        submitted += 1
        return submitted
    }

    /// Folds are the SQLite journal's housekeeping: the fake has none.
    public func loopIsIdle() {}
    public func loopIsBusy() {}

    /// When the oldest queued record commits.
    public var nextCommitAt: UInt64? { queued.first?.commitAt }

    /// Commits what is due; true when anything was.
    @discardableResult
    public func commitDue() -> Bool {
        let now = clock()
        var any = false
        while let first = queued.first, first.commitAt <= now {
            queued.removeFirst()
            commit(first.record)
            any = true
        }
        return any
    }

    private func commit(_ r: JournalRecord) {
        image.apply(r)
        if case .batchWritten(let b) = r { committedBatches.insert(b.id) }
        batchesCommittedThrough += 1
    }

    public func takeWakeups() {}
    public var idle: Bool { queued.isEmpty }

    public func finish() {
        for q in queued { commit(q.record) }
        queued = []
    }

    /// kill -9: the records not yet committed are lost.
    public func crash() { queued = [] }
}
