import CSQLite
import Foundation
import Glibc
import Model

/// The SQLite journal: the last desired view, the acknowledged store view, the batch in flight,
/// and an audit row per applied batch. Warm restart is `load()` into `DaemonState(replaying:)`.
public final class Journal {
    /// `normal`: WAL with synchronous=NORMAL — a daemon crash loses nothing committed; a power
    /// loss may lose the last transactions (the next start re-reads the store and re-diffs).
    /// `full`: every commit is fsynced — survives power loss too, at a cost per batch.
    public enum Durability: String, Sendable, CaseIterable { case normal, full }

    public static let schemaVersion: Int64 = 3
    /// `PRAGMA application_id`, "NSJL": tells our file from any other SQLite database.
    static let applicationID: Int64 = 0x4E53_4A4C
    /// Audit rows kept: enough for an operator, bounded so the file does not grow with time.
    public static let auditRowsKept: Int64 = 10_000

    public let path: String
    let db: Database
    private let putDesired, clearDesired, putActual, delActual, clearActual, putMalformed, delMalformed, clearMalformed: Statement
    private let putInflight, clearInflight, audit, pruneAudit, putMeta: Statement

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
        // 3: keys as columns (interface, address words, family), so neither writing nor replay
        // formats or parses address text. The views are rebuilt on the next start (store read
        // and dump), so they are dropped rather than converted.
        """
        DROP TABLE desired;
        DROP TABLE actual;
        CREATE TABLE desired (ifname TEXT NOT NULL, hi INTEGER NOT NULL, lo INTEGER NOT NULL, fam INTEGER NOT NULL,
                              mac INTEGER NOT NULL, efam INTEGER NOT NULL, PRIMARY KEY (ifname, hi, lo, fam)) WITHOUT ROWID;
        CREATE TABLE actual (ifname TEXT NOT NULL, hi INTEGER NOT NULL, lo INTEGER NOT NULL, fam INTEGER NOT NULL,
                             mac INTEGER, efam INTEGER, PRIMARY KEY (ifname, hi, lo, fam)) WITHOUT ROWID;
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
        // After each checkpoint the WAL is cut back to 1 MiB, so the files stay proportional to
        // the number of neighbors, not to the number of events ever written.
        try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=\(durability == .full ? "FULL" : "NORMAL"); PRAGMA journal_size_limit=1048576;")
        try db.execute("PRAGMA cache_size=-8192;")   // 8 MiB: a 100,000-neighbor view stays in memory
        putDesired = try db.prepare("INSERT OR REPLACE INTO desired VALUES (?, ?, ?, ?, ?, ?)")
        clearDesired = try db.prepare("DELETE FROM desired")
        putActual = try db.prepare("INSERT OR REPLACE INTO actual VALUES (?, ?, ?, ?, ?, ?)")
        delActual = try db.prepare("DELETE FROM actual WHERE ifname = ? AND hi = ? AND lo = ? AND fam = ?")
        clearActual = try db.prepare("DELETE FROM actual")
        putMalformed = try db.prepare("INSERT OR REPLACE INTO actual_malformed VALUES (?)")
        delMalformed = try db.prepare("DELETE FROM actual_malformed WHERE key = ?")
        clearMalformed = try db.prepare("DELETE FROM actual_malformed")
        putInflight = try db.prepare("INSERT INTO inflight VALUES (?, ?)")
        clearInflight = try db.prepare("DELETE FROM inflight")
        audit = try db.prepare("INSERT OR REPLACE INTO applied VALUES (?, ?, ?, ?)")
        pruneAudit = try db.prepare("DELETE FROM applied WHERE batch <= ?")
        putMeta = try db.prepare("INSERT OR REPLACE INTO meta VALUES (?, ?)")
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

    /// The journaled image: what `DaemonState(replaying:)` starts from.
    public func load() throws(JournalError) -> JournalImage {
        var image = JournalImage()
        try db.prepare("SELECT ifname, hi, lo, fam, mac, efam FROM desired").rows { r throws(JournalError) in
            guard let k = Self.key(r), let fam = AddressFamily(rawValue: UInt8(truncatingIfNeeded: r.int(5))) else {
                throw JournalError(kind: .corrupt, message: "\(path): bad desired row")
            }
            image.desired[k] = NeighborEntry(mac: MACAddress(rawValue: UInt64(bitPattern: r.int(4))), family: fam)
        }
        try db.prepare("SELECT ifname, hi, lo, fam, mac, efam FROM actual").rows { r throws(JournalError) in
            guard let k = Self.key(r) else { throw JournalError(kind: .corrupt, message: "\(path): bad actual row") }
            if r.isNull(4) {
                image.actual.entries[k] = .malformed
            } else if let fam = AddressFamily(rawValue: UInt8(truncatingIfNeeded: r.int(5))) {
                image.actual.entries[k] = .valid(NeighborEntry(mac: MACAddress(rawValue: UInt64(bitPattern: r.int(4))), family: fam))
            }
        }
        try db.prepare("SELECT key FROM actual_malformed").rows { r in if let k = r.text(0) { image.actual.malformedKeys.insert(k) } }
        var inflight: [Change] = [], inflightID: Int64 = 0
        try db.prepare("SELECT batch, changes FROM inflight").rows { r in
            inflightID = r.int(0)
            inflight = Self.decode(r.text(1) ?? "")
        }
        if !inflight.isEmpty { image.inFlight = Batch(id: UInt64(inflightID), changes: inflight) }
        try db.prepare("SELECT value FROM meta WHERE key = 'last_batch'").rows { r in image.lastBatchID = UInt64(r.text(0).flatMap { UInt64($0) } ?? 0) }
        return image
    }

    /// Applies one record in one transaction. `now` is the wall-clock time (Unix seconds) for the audit row.
    public func record(_ r: JournalRecord, now: Int64) throws(JournalError) {
        try db.transaction { () throws(JournalError) in
            switch r {
            case .batchWritten(let b):
                try clearInflight.run()
                try putInflight.run { $0.bind(1, Int64(b.id)); $0.bind(2, Self.encode(b.changes)) }
                try setMeta("last_batch", String(b.id))
            case .batchApplied(let b):
                var sets: Int64 = 0
                for c in b.changes {
                    switch c {
                    case .set(let k, let e): sets += 1; try putActual.run { Self.bind($0, k, e) }
                    case .del(let k): try delActual.run { Self.bind($0, k, nil) }
                    case .delMalformed(let raw): try delMalformed.run { $0.bind(1, raw) }
                    }
                }
                try clearInflight.run()
                try audit.run { $0.bind(1, Int64(b.id)); $0.bind(2, now); $0.bind(3, sets); $0.bind(4, Int64(b.changes.count) - sets) }
                try pruneAudit.run { $0.bind(1, Int64(b.id) - Self.auditRowsKept) }
                try setMeta("last_batch", String(b.id))
                try setMeta("last_applied_at", String(now))
            case .storeReloaded(let s):
                try clearActual.run()
                try clearMalformed.run()
                try clearInflight.run()
                for (k, v) in s.entries {
                    switch v {
                    case .valid(let e): try putActual.run { Self.bind($0, k, e) }
                    case .malformed: try putActual.run { Self.bind($0, k, nil); $0.bindNull(5); $0.bindNull(6) }
                    }
                }
                for raw in s.malformedKeys { try putMalformed.run { $0.bind(1, raw) } }
            case .desiredReplaced(let d):
                try clearDesired.run()
                for (k, e) in d { try putDesired.run { Self.bind($0, k, e) } }
                try setMeta("last_dump_at", String(now))
            }
        }
    }

    private func setMeta(_ key: String, _ value: String) throws(JournalError) {
        try putMeta.run { $0.bind(1, key); $0.bind(2, value) }
    }

    /// Binds a key to parameters 1–4 and, when given, an entry to 5–6.
    static func bind(_ s: Statement, _ k: NeighborKey, _ e: NeighborEntry?) {
        s.bind(1, k.interface.rawValue)
        s.bind(2, Int64(bitPattern: k.ip.high))
        s.bind(3, Int64(bitPattern: k.ip.low))
        s.bind(4, Int64(k.ip.family.rawValue))
        if let e {
            s.bind(5, Int64(bitPattern: e.mac.rawValue))
            s.bind(6, Int64(e.family.rawValue))
        }
    }

    static func key(_ r: Row) -> NeighborKey? {
        guard let name = r.text(0).flatMap({ InterfaceName($0) }) else { return nil }
        let hi = UInt64(bitPattern: r.int(1)), lo = UInt64(bitPattern: r.int(2))
        switch AddressFamily(rawValue: UInt8(truncatingIfNeeded: r.int(3))) {
        case .ipv4?: return NeighborKey(interface: name, ip: IPAddress(ipv4: UInt32(truncatingIfNeeded: lo)))
        case .ipv6?: return NeighborKey(interface: name, ip: IPAddress(ipv6High: hi, low: lo))
        case nil: return nil
        }
    }

    /// One line per change: `S key mac family`, `D key`, or `M rawkey` (a malformed key).
    static func encode(_ changes: [Change]) -> String {
        var out = ""
        out.reserveCapacity(changes.count * 40)
        for c in changes {
            switch c {
            case .set(let k, let e): out += "S \(k) \(e.mac.rawValue) \(e.family.rawValue)\n"
            case .del(let k): out += "D \(k)\n"
            case .delMalformed(let raw): out += "M \(raw)\n"
            }
        }
        return out
    }

    static func decode(_ text: String) -> [Change] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", maxSplits: 3)
            guard f.count >= 2 else { return nil }
            switch f[0] {
            case "S":
                guard f.count == 4, let k = NeighborKey(f[1]), let mac = UInt64(f[2]), let fam = UInt8(f[3]).flatMap(AddressFamily.init(rawValue:)) else { return nil }
                return .set(k, NeighborEntry(mac: MACAddress(rawValue: mac), family: fam))
            case "D": return NeighborKey(f[1]).map { .del($0) }
            case "M": return .delMalformed(String(line.dropFirst(2)))
            default: return nil
            }
        }
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
