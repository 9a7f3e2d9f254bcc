import Journal
import Model

/// What `neighsyncd restore --from-journal` restores instead of APPL_DB's NEIGH_TABLE: the
/// journal's store view, the NEIGH_TABLE the daemon last saw acknowledged. That is what orchagent
/// had programmed when the daemon stopped, so neighsyncd's reconcile after the restore leaves the
/// data plane's entries alone (the desired view, the kernel's table, may hold writes that never
/// reached APPL_DB). Read-only: the journal is never locked, created or migrated.
public struct JournalNeighbors: Sendable {
    public var snapshot: StoreSnapshot
    /// Unix seconds of the last batch acknowledged and of the last kernel dump journaled (nil: never).
    public var lastAppliedAt: Int64?
    public var lastDumpAt: Int64?

    public init(path: String) throws(JournalError) {
        let reader = try JournalReader(path: path)
        snapshot = try reader.load().actual
        let meta = try reader.metadata()
        lastAppliedAt = meta["last_applied_at"].flatMap { Int64($0) }
        lastDumpAt = meta["last_dump_at"].flatMap { Int64($0) }
    }
}
