import Foundation
import Journal
import Model

/// Writes journal records on a thread of its own, in order, so SQLite never stalls the event
/// loop. The journal is a hint for the next start (which reads the store and dumps the kernel
/// anyway): a record still queued when the process is killed only makes that hint older.
final class JournalWriter: @unchecked Sendable {
    private let journal: Journal
    private let lock = NSCondition()
    private var queue: [(JournalRecord, Int64)] = []
    private var busy = false
    private let report: @Sendable (String) -> Void
    private(set) var errors = 0

    init(journal: Journal, report: @escaping @Sendable (String) -> Void) {
        self.journal = journal
        self.report = report
        let t = Thread { [unowned self] in self.loop() }
        t.name = "journal-writer"
        t.start()
    }

    func submit(_ r: JournalRecord) {
        lock.lock()
        queue.append((r, Int64(time(nil))))
        lock.signal()
        lock.unlock()
    }

    /// Nothing queued and nothing being written.
    var idle: Bool {
        lock.lock()
        defer { lock.unlock() }
        return queue.isEmpty && !busy
    }

    /// Blocks until everything submitted is written, then folds the WAL into the file (at exit).
    func finish() {
        lock.lock()
        while !queue.isEmpty || busy { lock.wait() }
        do { try journal.checkpoint() } catch { report("\(error)") }
        lock.unlock()
    }

    private func loop() {
        while true {
            lock.lock()
            while queue.isEmpty { lock.wait() }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            busy = true
            lock.unlock()
            for (r, now) in batch {
                do { try journal.record(r, now: now) } catch {
                    errors += 1
                    report("\(error)")
                }
            }
            lock.lock()
            busy = false
            lock.broadcast()
            lock.unlock()
        }
    }
}
