import CNetlink
import Foundation
import Journal
import Model

/// Writes journal records on a thread of its own, in order, so SQLite never stalls the event
/// loop; after each commit it says how far it got through an eventfd (`JournalLink` holds a
/// batch's write until its `batchWritten` record is committed).
public final class JournalWriter: JournalSink, @unchecked Sendable {
    private let journal: Journal
    private let lock = NSCondition()
    private var queue: [(JournalRecord, Int64)] = []
    private var submitted: UInt64 = 0
    private var committed: UInt64 = 0
    private var busy = false
    private let report: @Sendable (String) -> Void
    private var failures = 0
    public let fileDescriptor: Int32

    public init(journal: Journal, report: @escaping @Sendable (String) -> Void) throws {
        fileDescriptor = nsd_eventfd_open()
        guard fileDescriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: -fileDescriptor) ?? .EIO) }
        self.journal = journal
        self.report = report
        let t = Thread { [unowned self] in self.loop() }
        t.name = "journal-writer"
        t.start()
    }

    public func submit(_ r: JournalRecord) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        queue.append((r, Int64(time(nil))))
        submitted += 1
        lock.signal()
        return submitted
    }

    public var committedThrough: UInt64 { lock.withLock { committed } }

    public func takeWakeups() {
        var count: UInt64 = 0
        _ = read(fileDescriptor, &count, 8)
    }

    public var idle: Bool { lock.withLock { queue.isEmpty && !busy } }
    public var errors: Int { lock.withLock { failures } }

    public func finish() {
        lock.lock()
        while !queue.isEmpty || busy { lock.wait() }
        do { try journal.checkpoint() } catch { report("\(error)") }
        lock.unlock()
    }

    /// A record that cannot be written is reported and counted, and counts as done: the journal is
    /// a hint, and a full disk must not stop the writes to APPL_DB.
    private func loop() {
        while true {
            lock.lock()
            while queue.isEmpty { lock.wait() }
            let records = queue
            queue.removeAll(keepingCapacity: true)
            busy = true
            lock.unlock()
            for (r, now) in records {
                var failed = false
                do { try journal.record(r, now: now) } catch {
                    failed = true
                    report("\(error)")
                }
                lock.withLock {
                    committed += 1
                    if failed { failures += 1 }
                }
                // Said at once, not after the whole queue: a batch's write waits for its record.
                var one: UInt64 = 1
                _ = write(fileDescriptor, &one, 8)
            }
            lock.lock()
            busy = false
            lock.broadcast()
            lock.unlock()
        }
    }
}
