import CSQLite
import Foundation
import Glibc
import Model

/// The SQLite journal: the last desired view, the acknowledged store view, the batches in flight,
/// and an audit row per applied batch. Warm restart is `load()` into `DaemonState(replaying:)`.
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

    public let path: String
    let db: Database
    private let putView, putDelta, clearDeltas, putInflight, clearInflight, dropInflight, audit, pruneAudit, putMeta, raiseLastBatch: Statement
    /// Records in the store view, and in the deltas written since it: the compaction trigger.
    private var viewRecords = 0, deltaRecords = 0

    /// Migrations, in order; each runs once, in a transaction, and bumps `user_version`.
    static let migrations: [String] = [
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE desired (key TEXT PRIMARY KEY, mac INTEGER NOT NULL, family INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE actual (key TEXT PRIMARY KEY, mac INTEGER, family INTEGER) WITHOUT ROWID;
        CREATE TABLE actual_malformed (key TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE TABLE inflight (position INTEGER PRIMARY KEY, batch INTEGER NOT NULL, op TEXT NOT NULL, key TEXT NOT NULL, mac INTEGER, family INTEGER);
        CREATE TABLE applied (batch INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, sets INTEGER NOT NULL, dels INTEGER NOT NULL);
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
                              mac INTEGER NOT NULL, efam INTEGER NOT NULL, PRIMARY KEY (ifname, hi, lo, fam)) WITHOUT ROWID;
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
        CREATE TABLE delta (seq INTEGER PRIMARY KEY, batch INTEGER NOT NULL, records BLOB NOT NULL, count INTEGER NOT NULL);
        CREATE TABLE inflight (batch INTEGER PRIMARY KEY, records BLOB NOT NULL, count INTEGER NOT NULL);
        """,
    ]

    /// Opens (creating with mode 0600) and migrates. Throws a typed error for a file that is
    /// corrupt, foreign, newer, or cannot be opened.
    public init(path: String, durability: Durability = .normal) throws(JournalError) {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw JournalError(kind: .io, message: "\(path): cannot create: \(String(cString: strerror(errno)))") }
            close(fd)
        }
        db = try Database(path: path)
        try Self.migrate(db, path: path)
        // After each checkpoint the WAL is cut back to 1 MiB.
        try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=\(durability == .full ? "FULL" : "NORMAL"); PRAGMA journal_size_limit=1048576;")
        putView = try db.prepare("INSERT OR REPLACE INTO view VALUES (?, ?, ?)")
        putDelta = try db.prepare("INSERT INTO delta (batch, records, count) VALUES (?, ?, ?)")
        clearDeltas = try db.prepare("DELETE FROM delta")
        putInflight = try db.prepare("INSERT INTO inflight VALUES (?, ?, ?)")
        clearInflight = try db.prepare("DELETE FROM inflight")
        audit = try db.prepare("INSERT OR REPLACE INTO applied VALUES (?, ?, ?, ?)")
        pruneAudit = try db.prepare("DELETE FROM applied WHERE batch <= ?")
        putMeta = try db.prepare("INSERT OR REPLACE INTO meta VALUES (?, ?)")
        raiseLastBatch = try db.prepare("""
            INSERT INTO meta VALUES ('last_batch', ?1) ON CONFLICT (key)
            DO UPDATE SET value = excluded.value WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)
            """)
        dropInflight = try db.prepare("DELETE FROM inflight WHERE batch = ?")
        try db.prepare("SELECT (SELECT count FROM view WHERE name = 'actual'), (SELECT sum(count) FROM delta)").rows { r in
            viewRecords = Int(r.int(0))
            deltaRecords = Int(r.int(1))
        }
    }

    static func migrate(_ db: Database, path: String) throws(JournalError) {
        var version: Int64 = 0, app: Int64 = 0, tables: Int64 = 0
        try db.prepare("PRAGMA user_version").rows { version = $0.int(0) }
        try db.prepare("PRAGMA application_id").rows { app = $0.int(0) }
        try db.prepare("SELECT count(*) FROM sqlite_master").rows { tables = $0.int(0) }
        if app != applicationID && (tables > 0 || version != 0) {
            throw JournalError(kind: .foreign, message: "\(path): a SQLite database that is not a neighsyncd journal")
        }
        if version > schemaVersion {
            throw JournalError(kind: .newerSchema, message: "\(path): schema \(version) is newer than this neighsyncd's \(schemaVersion)")
        }
        var ok = ""
        try db.prepare("PRAGMA quick_check").rows { ok = $0.text(0) ?? "" }
        guard ok == "ok" else { throw JournalError(kind: .corrupt, message: "\(path): quick_check: \(ok)") }
        for (i, sql) in migrations.enumerated() where Int64(i + 1) > version {
            try db.transaction { () throws(JournalError) in
                try db.execute(sql)
                try db.execute("PRAGMA application_id = \(applicationID); PRAGMA user_version = \(i + 1);")
                if i == 0 { try db.execute("INSERT INTO meta VALUES ('created', CAST(strftime('%s','now') AS TEXT))") }
            }
        }
    }

    /// The journaled image: what `DaemonState(replaying:)` starts from. The store view is its
    /// BLOB with every delta applied in order, by the same `StoreSnapshot.apply` the core uses.
    /// The desired view is for offline use (`neighsyncd reconcile --journal`); the daemon derives
    /// its own from the next dump and skips it (`includingDesired: false`).
    public func load(includingDesired: Bool = true) throws(JournalError) -> JournalImage {
        var image = JournalImage()
        image.actual = try storeView()
        if includingDesired {
            try db.prepare("SELECT records, count FROM view WHERE name = 'desired'").rows { r throws(JournalError) in
                image.desired.reserveCapacity(Int(r.int(1)))
                try decode(r, "desired view") { item in
                    guard case .set(let k, let e) = item else { return false }
                    image.desired[k] = e
                    return true
                }
            }
        }
        try db.prepare("SELECT batch, records FROM inflight ORDER BY batch").rows { r throws(JournalError) in
            image.inFlight.append(Batch(id: UInt64(r.int(0)), changes: try changes(r, column: 1, "batch in flight")))
        }
        try db.prepare("SELECT value FROM meta WHERE key = 'last_batch'").rows { r in image.lastBatchID = UInt64(r.text(0).flatMap { UInt64($0) } ?? 0) }
        return image
    }

    private func storeView() throws(JournalError) -> StoreSnapshot {
        var actual = StoreSnapshot()
        actual.entries.reserveCapacity(viewRecords + deltaRecords)
        try db.prepare("SELECT records FROM view WHERE name = 'actual'").rows { r throws(JournalError) in
            try decode(r, "store view") { item in
                switch item {
                case .set(let k, let e): actual.entries[k] = .valid(e)
                case .malformedEntry(let k): actual.entries[k] = .malformed
                case .malformedKey(let raw): actual.malformedKeys.insert(raw)
                case .del: return false
                }
                return true
            }
        }
        try db.prepare("SELECT batch, records FROM delta ORDER BY seq").rows { r throws(JournalError) in
            actual.apply(Batch(id: UInt64(r.int(0)), changes: try changes(r, column: 1, "delta of batch \(r.int(0))")))
        }
        return actual
    }

    /// Decodes one BLOB column; a damaged BLOB, or a record that does not belong in it, is a
    /// `corrupt` journal.
    private func decode(_ r: Row, column: Int32 = 0, _ what: String, _ accept: (Records.Item) -> Bool) throws(JournalError) {
        do {
            try r.blob(column) { buf throws(Records.Damaged) in try Records.forEach(in: buf, accept) }
        } catch {
            throw JournalError(kind: .corrupt, message: "\(path): \(what) is damaged")
        }
    }

    private func changes(_ r: Row, column: Int32, _ what: String) throws(JournalError) -> [Change] {
        var out: [Change] = []
        try decode(r, column: column, what) { item in
            switch item {
            case .set(let k, let e): out.append(.set(k, e))
            case .del(let k): out.append(.del(k))
            case .malformedKey(let raw): out.append(.delMalformed(raw))
            case .malformedEntry: return false
            }
            return true
        }
        return out
    }

    /// Applies one record in one transaction. `now` is the wall-clock time (Unix seconds) for the audit row.
    public func record(_ r: JournalRecord, now: Int64) throws(JournalError) {
        let before = (viewRecords, deltaRecords)
        do {
            try db.transaction { () throws(JournalError) in try apply(r, now: now) }
        } catch {
            (viewRecords, deltaRecords) = before   // rolled back: the counts with it
            throw error
        }
    }

    private func apply(_ r: JournalRecord, now: Int64) throws(JournalError) {
        switch r {
        case .batchWritten(let b):
            let w = Records.encode(b.changes)
            try putInflight.run { $0.bind(1, Int64(b.id)); $0.bind(2, w.bytes); $0.bind(3, Int64(w.count)) }
            try raiseLastBatch.run { $0.bind(1, String(b.id)) }
        case .batchApplied(let b):
            let w = Records.encode(b.changes)
            try putDelta.run { $0.bind(1, Int64(b.id)); $0.bind(2, w.bytes); $0.bind(3, Int64(w.count)) }
            deltaRecords += w.count
            try dropInflight.run { $0.bind(1, Int64(b.id)) }
            let sets = Int64(b.changes.count { $0.isSet })
            try audit.run { $0.bind(1, Int64(b.id)); $0.bind(2, now); $0.bind(3, sets); $0.bind(4, Int64(b.changes.count) - sets) }
            try pruneAudit.run { $0.bind(1, Int64(b.id) - Self.auditRowsKept) }
            try raiseLastBatch.run { $0.bind(1, String(b.id)) }
            try setMeta("last_applied_at", String(now))
            if deltaRecords > max(2 * viewRecords, Self.compactionFloor) { try putStoreView(try storeView()) }
        case .storeReloaded(let s):
            try clearInflight.run()
            try putStoreView(s)
        case .desiredReplaced(let d):
            let w = Records.encode(d)
            try putView.run { $0.bind(1, "desired"); $0.bind(2, w.bytes); $0.bind(3, Int64(w.count)) }
            try setMeta("last_dump_at", String(now))
        }
    }

    /// Replaces the store view and drops the deltas it now includes.
    private func putStoreView(_ s: StoreSnapshot) throws(JournalError) {
        let w = Records.encode(s)
        try putView.run { $0.bind(1, "actual"); $0.bind(2, w.bytes); $0.bind(3, Int64(w.count)) }
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
        try putMeta.run { $0.bind(1, key); $0.bind(2, value) }
    }

    /// Metadata for `status`: created, last_batch, last_applied_at, last_dump_at.
    public func metadata() throws(JournalError) -> [String: String] {
        var m: [String: String] = [:]
        try db.prepare("SELECT key, value FROM meta").rows { r in if let k = r.text(0), let v = r.text(1) { m[k] = v } }
        return m
    }

    /// Opens the journal; a bad one is renamed to `<path>.bad-<time>` (never deleted) and a new one
    /// started, so the daemon falls back to a cold reconcile. nil when even that fails (read-only
    /// directory, full disk): the daemon then runs without a journal. Each step is reported.
    public static func openOrSetAside(path: String, durability: Durability, now: Int64, report: (String) -> Void) -> Journal? {
        do { return try Journal(path: path, durability: durability) } catch {
            report("\(error)")
            guard error.kind != .io || FileManager.default.fileExists(atPath: path) else { return nil }
            let aside = "\(path).bad-\(now)"
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                do { try FileManager.default.moveItem(atPath: path + suffix, toPath: aside + suffix) } catch {
                    report("journal: cannot set \(path + suffix) aside: \(error.localizedDescription); running without a journal")
                    return nil
                }
            }
            report("journal: set the bad file aside as \(aside); starting a new journal (cold reconcile against the store)")
            do { return try Journal(path: path, durability: durability) } catch {
                report("\(error); running without a journal")
                return nil
            }
        }
    }
}
