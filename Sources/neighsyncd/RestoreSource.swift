import Foundation
import Journal
import Logging
import Model
import Restorer
import StoreObserver

extension Restore {
    /// The neighbors to restore: APPL_DB's NEIGH_TABLE, or with `--from-journal` the journal's
    /// acknowledged store view (docs/operations.md says when that is right, and when it is not).
    func neighborsToRestore(_ log: Logger) throws -> StoreSnapshot {
        guard let path = fromJournal else {
            let (snapshot, issues) = try StoreReader.snapshot(try redis.connect("APPL_DB"))
            for issue in issues { log.warning("restore: skipped \(issue)") }
            return snapshot
        }
        let read = try JournalNeighbors(path: path)
        func when(_ t: Int64?) -> String {
            t.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval($0))) } ?? "never"
        }
        let source =
            "journal \(path), not APPL_DB: \(read.snapshot.entries.count) entries, last batch acknowledged "
            + "\(when(read.lastAppliedAt)), last dump \(when(read.lastDumpAt))"
        log.notice("restore: reading neighbors from \(source)")
        return read.snapshot
    }
}
