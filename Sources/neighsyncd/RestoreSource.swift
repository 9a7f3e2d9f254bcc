import Foundation
import Journal
import Logging
import Model
import Restorer
import StoreObserver

extension Restore {
    /// The neighbors to restore: APPL_DB's NEIGH_TABLE, or with `--from-journal` the journal's
    /// acknowledged store view (docs/operations.md says when that is right, and when it is not).
    /// APPL_DB's malformed items come back as issues, for the caller to log in restore's words.
    func neighborsToRestore(_ log: Logger) throws -> (snapshot: StoreSnapshot, issues: [SnapshotIssue]) {
        guard let path = fromJournal else { return try StoreReader.snapshot(try redis.connect("APPL_DB")) }
        let read = try JournalNeighbors(path: path)
        func when(_ t: Int64?) -> String {
            t.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval($0))) } ?? "never"
        }
        let source =
            "journal \(path), not APPL_DB: \(read.snapshot.entries.count) entries, last batch acknowledged "
            + "\(when(read.lastAppliedAt)), last dump \(when(read.lastDumpAt))"
        log.notice("restore: reading neighbors from \(source)")
        // The journal keeps what APPL_DB held, malformed items included: named, as APPL_DB's are.
        let malformed =
            read.snapshot.entries.filter { $0.value.entry == nil }.keys.sorted().map {
                SnapshotIssue(source: "journal", item: $0.description, reason: "malformed entry")
            }
            + read.snapshot.malformedKeys.sorted().map {
                SnapshotIssue(source: "journal", item: $0, reason: "malformed key")
            }
        return (read.snapshot, malformed)
    }
}
