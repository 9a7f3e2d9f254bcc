import CNetlink
import Foundation
import Journal
import Model

/// Writes journal records on a thread of its own, so SQLite never stalls the event loop; after
/// each `batchWritten` commit it says how far it got through an eventfd (`JournalLink` holds a
/// batch's write until its record is committed).
///
/// Of the records queued together, the `batchWritten` ones are written first: a batch waits for
/// its record, and must not wait behind the acknowledgements before it (each an append, sometimes
/// a fold of the whole store view). That reordering changes nothing the journal replays: a
/// `batchWritten` adds its batch to those in flight, its entries to the desired view and raises
/// the last batch id, which commutes with the `batchApplied` of another batch (batches in flight
/// share no key, and an acknowledgement touches only the store view and its own batch). It never
/// overtakes a `storeReloaded` (which forgets the batches in flight) or a `desiredReplaced`
/// (which replaces the desired view the batch adds to). `JournalWriterOrderTests` replays both
/// orders and compares. For the same reason the folding of acknowledged batches into the store
/// view (~100 ms for 100,000 neighbors), and the checkpoint of the WAL into the file, run only
/// while the event loop says it is idle (about to sleep with no reply awaited and no batch held;
/// a turn with events withdraws it) and at least `quiet` after the last record was submitted: a
/// pause in records alone (the loop busy computing a resync) once let a fold start just before
/// the next batch's record, which then waited for it. The quiet time counts from the last record,
/// not from the idle signal, so kernel events that write nothing (neighbors going STALE and back)
/// do not put housekeeping off for ever.
public final class JournalWriter: JournalSink, @unchecked Sendable {
    private struct Queued {
        var record: JournalRecord
        var time: Int64
        var position: UInt64
        var isBatch: Bool
    }

    private let journal: Journal
    private let lock = NSCondition()
    private var queue: [Queued] = []
    private var submitted: UInt64 = 0
    private var batchesCommitted: UInt64 = 0
    private var busy = false
    /// The event loop said it is idle, and neither said it is busy nor submitted anything since.
    private var loopIdle = false
    /// When the last record was submitted.
    private var lastSubmission = Date.distantPast
    /// Housekeeping waits this long after the last record.
    private let quiet: TimeInterval
    /// `finish` took the journal over: the thread must not touch it again.
    private var finishing = false
    private let report: @Sendable (String) -> Void
    private var failures = 0
    private var foldsRun = 0
    private var checkpointsRun = 0
    public let fileDescriptor: Int32
    /// `quietMilliseconds`: how long after the last record housekeeping may run (tests widen it).
    public init(
        journal: Journal,
        quietMilliseconds: Int = 50,
        report: @escaping @Sendable (String) -> Void
    ) throws {
        quiet = Double(quietMilliseconds) / 1000
        fileDescriptor = nsd_eventfd_open()
        guard fileDescriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: -fileDescriptor) ?? .EIO) }
        self.journal = journal
        self.report = report
        let t = Thread { [unowned self] in self.loop() }
        t.name = "journal-writer"
        t.start()
    }

    public func submit(_ r: JournalRecord) -> UInt64 {
        var isBatch = false
        if case .batchWritten = r { isBatch = true }
        lock.lock()
        defer { lock.unlock() }
        submitted += 1
        loopIdle = false
        lastSubmission = Date()
        queue.append(Queued(record: r, time: Int64(time(nil)), position: submitted, isBatch: isBatch))
        lock.signal()
        return submitted
    }

    public var batchesCommittedThrough: UInt64 { lock.withLock { batchesCommitted } }

    public func takeWakeups() {
        var count: UInt64 = 0
        _ = read(fileDescriptor, &count, 8)
    }

    public func loopIsIdle() {
        lock.withLock {
            guard !loopIdle else { return }
            loopIdle = true
            lock.broadcast()
        }
    }

    public func loopIsBusy() { lock.withLock { loopIdle = false } }

    public var idle: Bool { lock.withLock { queue.isEmpty && !busy } }
    public var errors: Int { lock.withLock { failures } }

    public func finish() {
        lock.lock()
        while !queue.isEmpty || busy { lock.wait() }
        finishing = true  // the writer thread keeps off the journal from here on
        lock.unlock()
        housekeeping()
        do { try journal.checkpoint() } catch { report("\(error)") }
    }

    /// The order to write records queued together in: between two records that replace a whole
    /// view, the `batchWritten` records first (each kind keeping its order), then the others.
    static func writingOrder(_ records: [JournalRecord]) -> [Int] {
        var out: [Int] = []
        var others: [Int] = []
        out.reserveCapacity(records.count)
        for (i, r) in records.enumerated() {
            switch r {
            case .storeReloaded, .desiredReplaced:
                out += others
                others = []
                out.append(i)
            case .batchWritten:
                out.append(i)
            case .batchApplied:
                others.append(i)
            }
        }
        return out + others
    }

    /// A record that cannot be written is reported and counted, and counts as done: the journal is
    /// a hint, and a full disk must not stop the writes to APPL_DB.
    private func loop() {
        while true {
            lock.lock()
            while queue.isEmpty {
                guard loopIdle, !finishing else {
                    lock.wait()
                    continue
                }
                let due = lastSubmission.addingTimeInterval(quiet)
                if Date() < due {
                    _ = lock.wait(until: due)  // or woken sooner by a submission or `finish`
                    continue
                }
                loopIdle = false  // once per idle moment; the next `loopIsIdle` may bring more
                busy = true
                lock.unlock()
                housekeeping()
                lock.lock()
                busy = false
                lock.broadcast()
            }
            let records = queue
            queue.removeAll(keepingCapacity: true)
            busy = true
            lock.unlock()
            for q in Self.writingOrder(records.map(\.record)).map({ records[$0] }) {
                var failed = false
                do { try journal.record(q.record, now: q.time, housekeeping: false) } catch {
                    failed = true
                    report("\(error)")
                }
                lock.withLock {
                    if q.isBatch { batchesCommitted = max(batchesCommitted, q.position) }
                    if failed { failures += 1 }
                }
                // Said at once, not after the whole queue: a batch's write waits for its record.
                if q.isBatch {
                    var one: UInt64 = 1
                    _ = write(fileDescriptor, &one, 8)
                }
            }
            lock.lock()
            busy = false
            lock.broadcast()
            lock.unlock()
        }
    }

    /// Folds and checkpoints run so far (tests check when they may run).
    public var folds: Int { lock.withLock { foldsRun } }
    public var checkpoints: Int { lock.withLock { checkpointsRun } }

    /// A fold if one is due, then a checkpoint of the WAL if one is due.
    private func housekeeping() {
        do {
            if try journal.compact() { lock.withLock { foldsRun += 1 } }
            if try journal.checkpointIfDue() { lock.withLock { checkpointsRun += 1 } }
        } catch {
            lock.withLock { failures += 1 }
            report("\(error)")
        }
    }
}
