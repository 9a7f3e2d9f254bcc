import CSQLite
import Foundation
import Glibc
import Model

/// The SQLite journal: the last desired view, the acknowledged store view, the batches in flight,
/// and an audit row per applied batch. At start `load()` goes into `DaemonState(replaying:)`: it
/// gives the batch ids; the APPL_DB read replaces its store view (docs/state-machine.md).
///
/// Each view is one BLOB of binary records (`Records`); an acknowledged batch appends one delta
/// row to the store view, so writing a batch costs one row whatever its size. When the deltas
/// outgrow the view they are folded into it (compaction), so the file stays proportional to the
/// number of neighbors, not to the number of events ever written.
public final class Journal {
    /// `normal`: WAL with synchronous=NORMAL — a daemon crash loses nothing committed; a power
    /// loss may lose the last transactions (the next start re-reads the store and re-diffs).
    /// `full`: every commit is fsynced — survives power loss too, at a cost per batch.
    public enum Durability: String, Sendable, CaseIterable { case normal, full }

    public static let schemaVersion: Int64 = 4
    /// `PRAGMA application_id`, "NSJL": tells our file from any other SQLite database.
    static let applicationID: Int64 = 0x4E53_4A4C
    /// Audit rows kept: enough for an operator, bounded so the file does not grow with time.
    public static let auditRowsKept: Int64 = 10_000
    /// Deltas are folded into the store view once they hold more records than this and than twice
    /// the view: the file stays within three times the view, and the folding, which decodes and
    /// re-encodes the whole view, happens seldom enough to cost less than the batches themselves.
    static let compactionFloor = 4096
    /// SQLite checkpoints the WAL itself inside whichever commit crosses 1,000 pages by default: a
    /// batch's record once waited ~140 ms for it in a cold start. Its own checkpoint now runs only
    /// past this many pages (32 MiB: a burst that long without an idle moment; a 100,000-neighbor
    /// cold start writes 12); the daemon's writer checkpoints at idle moments (`checkpointIfDue`)
    /// once the WAL reached `checkpointAt`.
    static let forcedCheckpointPages = 8192
    static let checkpointAt = 4 << 20

    public let path: String
    let db: Database
    let contents: JournalContents
    /// Held for the journal's life: one writer per file.
    let lock: JournalLock
    private let putView, putDelta, clearDeltas, putInflight, clearInflight, dropInflight, audit, pruneAudit, putMeta,
        raiseLastBatch: Statement
    private let markDesired: Statement
    /// Records in the store view, and in the deltas written since it: the compaction trigger.
    private var viewRecords = 0, deltaRecords = 0
    /// The WAL keeps its size until the next commit starts it over: no second checkpoint before.
    private var checkpointedSinceRecord = false

    /// Migrations, in order; each runs once, in a transaction, and bumps `user_version`.
    static let migrations: [String] = [
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE desired (key TEXT PRIMARY KEY, mac INTEGER NOT NULL, family INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE actual (key TEXT PRIMARY KEY, mac INTEGER, family INTEGER) WITHOUT ROWID;
        CREATE TABLE actual_malformed (key TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE TABLE inflight (position INTEGER PRIMARY KEY, batch INTEGER NOT NULL, op TEXT NOT NULL,
                               key TEXT NOT NULL, mac INTEGER, family INTEGER);
        CREATE TABLE applied (batch INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, sets INTEGER NOT NULL,
                              dels INTEGER NOT NULL);
        """,
        // 2: the batch in flight as one row (one line per change) instead of a row per change.
        """
        DROP TABLE inflight;
        CREATE TABLE inflight (batch INTEGER PRIMARY KEY, changes TEXT NOT NULL);
        """,
        // 3: keys as columns (interface, address words, family) instead of text.
        """
        DROP TABLE desired;
        DROP TABLE actual;
        CREATE TABLE desired (ifname TEXT NOT NULL, hi INTEGER NOT NULL, lo INTEGER NOT NULL, fam INTEGER NOT NULL,
                              mac INTEGER NOT NULL, efam INTEGER NOT NULL,
                              PRIMARY KEY (ifname, hi, lo, fam)) WITHOUT ROWID;
        CREATE TABLE actual (ifname TEXT NOT NULL, hi INTEGER NOT NULL, lo INTEGER NOT NULL, fam INTEGER NOT NULL,
                             mac INTEGER, efam INTEGER, PRIMARY KEY (ifname, hi, lo, fam)) WITHOUT ROWID;
        """,
        // 4: each view one BLOB of binary records, the store view kept current by one delta row
        // per acknowledged batch. The views are rebuilt on the next start (store read and dump),
        // so they are dropped rather than converted.
        """
        DROP TABLE desired;
        DROP TABLE actual;
        DROP TABLE actual_malformed;
        DROP TABLE inflight;
        CREATE TABLE view (name TEXT PRIMARY KEY, records BLOB NOT NULL, count INTEGER NOT NULL);
        CREATE TABLE delta (seq INTEGER PRIMARY KEY, batch INTEGER NOT NULL, records BLOB NOT NULL,
                            count INTEGER NOT NULL);
        CREATE TABLE inflight (batch INTEGER PRIMARY KEY, records BLOB NOT NULL, count INTEGER NOT NULL);
        """,
    ]

    /// Takes the lock (unless given it), opens (creating with mode 0600) and migrates. Throws a
    /// typed error for a file that is corrupt, foreign, newer, a symbolic link, in use, or cannot
    /// be opened.
    public init(path: String, durability: Durability = .normal, lock: JournalLock? = nil) throws(JournalError) {
        self.path = path
        if let lock { self.lock = lock } else { self.lock = try JournalLock(journalPath: path) }
        try JournalPath.check(path)
        if !JournalPath.exists(path) { try JournalPath.create(path) }
        JournalPath.makePrivate(path)
        db = try Database(path: path)
        contents = JournalContents(db: db, path: path)
        try Self.migrate(db, path: path)
        // After each checkpoint the WAL is cut back to 1 MiB.
        try db.execute(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=\(durability == .full ? "FULL" : "NORMAL"); PRAGMA "
                + "journal_size_limit=1048576; PRAGMA wal_autocheckpoint=\(Self.forcedCheckpointPages);"
        )
        JournalPath.makePrivate(path)
        putView = try db.prepare("INSERT OR REPLACE INTO view VALUES (?, ?, ?)")
        putDelta = try db.prepare("INSERT INTO delta (batch, records, count) VALUES (?, ?, ?)")
        clearDeltas = try db.prepare("DELETE FROM delta")
        putInflight = try db.prepare("INSERT INTO inflight VALUES (?, ?, ?)")
        clearInflight = try db.prepare("DELETE FROM inflight")
        audit = try db.prepare("INSERT OR REPLACE INTO applied VALUES (?, ?, ?, ?)")
        pruneAudit = try db.prepare("DELETE FROM applied WHERE batch <= ?")
        putMeta = try db.prepare("INSERT OR REPLACE INTO meta VALUES (?, ?)")
        raiseLastBatch = try db.prepare(
            """
            INSERT INTO meta VALUES ('last_batch', ?1) ON CONFLICT (key)
            DO UPDATE SET value = excluded.value WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)
            """
        )
        // The desired view follows every batch written up to now (see `JournalContents.load`).
        markDesired = try db.prepare(
            """
            INSERT OR REPLACE INTO meta
            SELECT 'desired_batch', coalesce((SELECT value FROM meta WHERE key = 'last_batch'), '0')
            """
        )
        dropInflight = try db.prepare("DELETE FROM inflight WHERE batch = ?")
        (viewRecords, deltaRecords) = try contents.storeRecordCounts()
    }

    static func quickCheck(_ db: Database, path: String) throws(JournalError) {
        var ok = ""
        try db.prepare("PRAGMA quick_check").rows { ok = $0.text(0) ?? "" }
        guard ok == "ok" else { throw JournalError(kind: .corrupt, message: "\(path): quick_check: \(ok)") }
    }

    static func migrate(_ db: Database, path: String) throws(JournalError) {
        var version: Int64 = 0
        var app: Int64 = 0
        var tables: Int64 = 0
        try db.prepare("PRAGMA user_version").rows { version = $0.int(0) }
        try db.prepare("PRAGMA application_id").rows { app = $0.int(0) }
        try db.prepare("SELECT count(*) FROM sqlite_master").rows { tables = $0.int(0) }
        if app != applicationID && (tables > 0 || version != 0) {
            throw JournalError(kind: .foreign, message: "\(path): a SQLite database that is not a neighsyncd journal")
        }
        if version > schemaVersion {
            throw JournalError(
                kind: .newerSchema,
                message: "\(path): schema \(version) is newer than this neighsyncd's \(schemaVersion)"
            )
        }
        try quickCheck(db, path: path)
        for (i, sql) in migrations.enumerated() where Int64(i + 1) > version {
            try db.transaction { () throws(JournalError) in
                try db.execute(sql)
                try db.execute("PRAGMA application_id = \(applicationID); PRAGMA user_version = \(i + 1);")
                if i == 0 { try db.execute("INSERT INTO meta VALUES ('created', CAST(strftime('%s','now') AS TEXT))") }
            }
        }
    }

    /// The journaled image: what `DaemonState(replaying:)` starts from (see `JournalContents.load`).
    public func load(includingDesired: Bool = true) throws(JournalError) -> JournalImage {
        try contents.load(includingDesired: includingDesired)
    }

    /// Applies one record in one transaction. `now` is the wall-clock time (Unix seconds) for the
    /// audit row. `housekeeping: false` leaves due folding and checkpointing to a later `compact()`
    /// and `checkpointIfDue()` (a writer with records waiting keeps them from waiting behind it),
    /// unless folding is `compactionOverdue`.
    public func record(_ r: JournalRecord, now: Int64, housekeeping: Bool = true) throws(JournalError) {
        let before = (viewRecords, deltaRecords)
        checkpointedSinceRecord = false
        do {
            try db.transaction { () throws(JournalError) in
                try apply(r, now: now)
                if housekeeping ? compactionDue : compactionOverdue { try fold() }
            }
        } catch {
            (viewRecords, deltaRecords) = before  // rolled back: the counts with it
            throw error
        }
        if housekeeping { try checkpointIfDue() }
    }

    private func apply(_ r: JournalRecord, now: Int64) throws(JournalError) {
        switch r {
        case .batchWritten(let b):
            let w = Records.encode(b.changes)
            try putInflight.run {
                $0.bind(1, Int64(b.id))
                $0.bind(2, w.bytes)
                $0.bind(3, Int64(w.count))
            }
            try raiseLastBatch.run { $0.bind(1, String(b.id)) }
        case .batchApplied(let b):
            let w = Records.encode(b.changes)
            try putDelta.run {
                $0.bind(1, Int64(b.id))
                $0.bind(2, w.bytes)
                $0.bind(3, Int64(w.count))
            }
            deltaRecords += w.count
            try dropInflight.run { $0.bind(1, Int64(b.id)) }
            let sets = Int64(b.changes.count { $0.isSet })
            try audit.run {
                $0.bind(1, Int64(b.id))
                $0.bind(2, now)
                $0.bind(3, sets)
                $0.bind(4, Int64(b.changes.count) - sets)
            }
            try pruneAudit.run { $0.bind(1, Int64(b.id) - Self.auditRowsKept) }
            try raiseLastBatch.run { $0.bind(1, String(b.id)) }
            try setMeta("last_applied_at", String(now))
        case .storeReloaded(let s):
            try foldBatchesIntoDesired()
            try clearInflight.run()
            try putStoreView(s)
        case .desiredReplaced(let d):
            try putDesiredView(Records.encode(d))
            try setMeta("last_dump_at", String(now))
        }
    }

    /// The deltas hold more records than twice the view (and `compactionFloor`): fold them.
    public var compactionDue: Bool { deltaRecords > max(2 * viewRecords, Self.compactionFloor) }
    /// Folding was put off so long that the file is four times what it should be: fold now anyway.
    public var compactionOverdue: Bool { deltaRecords > 4 * max(2 * viewRecords, Self.compactionFloor) }

    /// Folds the deltas into the store view if that is due, in a transaction of its own. True when
    /// it folded.
    @discardableResult
    public func compact() throws(JournalError) -> Bool {
        guard compactionDue else { return false }
        let before = (viewRecords, deltaRecords)
        do {
            try db.transaction { () throws(JournalError) in try fold() }
        } catch {
            (viewRecords, deltaRecords) = before
            throw error
        }
        return true
    }

    /// Copies the WAL into the database file once it holds `checkpointAt` bytes, without waiting
    /// for readers (`PASSIVE`): the daemon's writer calls it when the event loop is idle, so no
    /// batch waits behind the copy and its fsync. The WAL's size says how much it holds: each
    /// checkpoint lets the next commit start it over, cut back to `journal_size_limit` (1 MiB).
    /// True when it ran one.
    @discardableResult
    public func checkpointIfDue() throws(JournalError) -> Bool {
        guard !checkpointedSinceRecord, let wal = JournalPath.status(path + "-wal"), wal.st_size >= Self.checkpointAt
        else { return false }
        try db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        checkpointedSinceRecord = true
        return true
    }

    private func fold() throws(JournalError) {
        try foldBatchesIntoDesired()
        try putStoreView(try contents.storeView())
    }

    private func putDesiredView(_ w: Records.Writer) throws(JournalError) {
        try putView.run {
            $0.bind(1, "desired")
            $0.bind(2, w.bytes)
            $0.bind(3, Int64(w.count))
        }
        try markDesired.run()
    }

    /// Before the deltas or the batches in flight are dropped, the desired view takes in the
    /// batches written since it was recorded, which would otherwise be lost to it.
    private func foldBatchesIntoDesired() throws(JournalError) {
        guard try !contents.batchesSinceDesired().isEmpty else { return }
        try putDesiredView(Records.encode(try contents.desiredView().map { DesiredEntry($0.key, $0.value) }))
    }

    /// Replaces the store view and drops the deltas it now includes.
    private func putStoreView(_ s: StoreSnapshot) throws(JournalError) {
        let w = Records.encode(s)
        try putView.run {
            $0.bind(1, "actual")
            $0.bind(2, w.bytes)
            $0.bind(3, Int64(w.count))
        }
        try clearDeltas.run()
        viewRecords = w.count
        deltaRecords = 0
    }

    /// Copies the WAL into the database file and empties it (at a clean exit): what is left is
    /// one self-contained file.
    public func checkpoint() throws(JournalError) {
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    private func setMeta(_ key: String, _ value: String) throws(JournalError) {
        try putMeta.run {
            $0.bind(1, key)
            $0.bind(2, value)
        }
    }

    /// Metadata for `status`: created, last_batch, last_applied_at, last_dump_at.
    public func metadata() throws(JournalError) -> [String: String] { try contents.metadata() }

    /// The daemon's journal: its lock taken, the file opened and loaded. A file that cannot be
    /// opened or loaded is renamed to `<path>.bad-<time>` (never deleted) and a new one started,
    /// so the daemon falls back to a cold reconcile. nil when even that fails (read-only
    /// directory, full disk, a symbolic link): the daemon then runs without a journal. Throws
    /// only `inUse`: another daemon owns the file. Each step is reported.
    public static func openForDaemon(
        path: String,
        durability: Durability,
        now: Int64,
        report: (String) -> Void
    )
        throws(JournalError) -> (journal: Journal, image: JournalImage)?
    {
        let lock: JournalLock
        do { lock = try JournalLock(journalPath: path) } catch {
            if error.kind == .inUse { throw error }
            report("\(error)")
            return nil
        }
        do {
            guard let journal = openOrSetAside(path: path, durability: durability, now: now, lock: lock, report: report)
            else { return nil }
            do { return (journal, try journal.load(includingDesired: false)) } catch { report("\(error)") }
        }
        // Opened but not loadable. `journal` is out of scope, so its connection is closed: a
        // connection closed after the move would delete the new journal's `-wal` by name.
        guard setAside(path, now: now, report: report) else { return nil }
        do {
            let journal = try Journal(path: path, durability: durability, lock: lock)
            return (journal, try journal.load(includingDesired: false))
        } catch {
            report("\(error); running without a journal")
            return nil
        }
    }

    /// Opens the journal (taking the lock, unless given it); a bad one is set aside and a new one
    /// started. nil when even that fails. Each step is reported.
    public static func openOrSetAside(
        path: String,
        durability: Durability,
        now: Int64,
        lock: JournalLock? = nil,
        report: (String) -> Void
    ) -> Journal? {
        let held: JournalLock
        if let lock {
            held = lock
        } else {
            do { held = try JournalLock(journalPath: path) } catch {
                report("\(error)")
                return nil
            }
        }
        do { return try Journal(path: path, durability: durability, lock: held) } catch {
            report("\(error)")
            guard
                error.kind == .corrupt || error.kind == .foreign || error.kind == .newerSchema
                    || (error.kind == .io && JournalPath.exists(path))
            else { return nil }
        }
        guard setAside(path, now: now, report: report) else { return nil }
        do { return try Journal(path: path, durability: durability, lock: held) } catch {
            report("\(error); running without a journal")
            return nil
        }
    }

    /// Renames the journal and its side files to `<path>.bad-<now>`.
    static func setAside(_ path: String, now: Int64, report: (String) -> Void) -> Bool {
        let aside = "\(path).bad-\(now)"
        for suffix in [""] + JournalPath.sideFiles where JournalPath.exists(path + suffix) {
            guard rename(path + suffix, aside + suffix) == 0 else {
                let why = String(cString: strerror(errno))
                report("journal: cannot set \(path + suffix) aside: \(why); running without a journal")
                return false
            }
        }
        report("journal: set the bad file aside as \(aside); starting a new journal (cold reconcile against the store)")
        return true
    }
}
