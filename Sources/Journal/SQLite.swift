import CSQLite
import Glibc

/// A SQLite error with the statement it came from.
public struct JournalError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// Not a SQLite database, or damaged.
        case corrupt
        /// A SQLite database, but not a neighsyncd journal.
        case foreign
        /// Written by a newer neighsyncd.
        case newerSchema
        /// Written by an older neighsyncd: readers do not migrate; the daemon does.
        case olderSchema
        /// Cannot create, read or write (permissions, read-only directory, full disk).
        case io
        /// The path is a symbolic link or not a regular file: refused, never followed.
        case unsafePath
        /// Another neighsyncd holds the journal's lock.
        case inUse
    }
    public var kind: Kind
    public var message: String
    public var description: String { kind == .inUse ? message : "journal \(kind.rawValue): \(message)" }
}

/// One SQLite connection; closed in deinit.
final class Database {
    let handle: OpaquePointer
    let path: String

    /// Opens an existing file: read-write for the daemon's writer; read-only (`uri` a `file:` URI
    /// with `mode=ro` or `immutable=1`) for the commands that only read. Never creates it.
    init(path: String, readOnlyURI uri: String? = nil) throws(JournalError) {
        var h: OpaquePointer?
        let flags = uri == nil ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
        let rc = sqlite3_open_v2(uri ?? path, &h, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let h else {
            let msg = h.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let h { sqlite3_close(h) }
            throw JournalError(kind: .io, message: "\(path): \(msg)")
        }
        handle = h
        self.path = path
        sqlite3_busy_timeout(h, 2000)
    }

    deinit { sqlite3_close_v2(handle) }

    func error(_ what: String, _ rc: Int32) -> JournalError {
        let msg = String(cString: sqlite3_errmsg(handle))
        let kind: JournalError.Kind =
            switch rc & 0xFF {
            case SQLITE_NOTADB, SQLITE_CORRUPT: .corrupt
            default: .io
            }
        return JournalError(kind: kind, message: "\(path): \(what): \(msg)")
    }

    func execute(_ sql: String) throws(JournalError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(sql.prefix(60).description, rc) }
    }

    func prepare(_ sql: String) throws(JournalError) -> Statement {
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &s, nil)
        guard rc == SQLITE_OK, let s else { throw error("prepare \(sql.prefix(60))", rc) }
        return Statement(s, self)
    }

    /// Runs `body` in one transaction; rolls back if it throws.
    func transaction(_ body: () throws(JournalError) -> Void) throws(JournalError) {
        try execute("BEGIN IMMEDIATE")
        do {
            try body()
            try execute("COMMIT")
        } catch {
            _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }
}

/// A prepared statement, reset after each use.
final class Statement {
    let s: OpaquePointer
    unowned let db: Database

    init(_ s: OpaquePointer, _ db: Database) {
        self.s = s
        self.db = db
    }

    deinit { sqlite3_finalize(s) }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Executes a statement whose parameters `bind` sets (none by default).
    func run(_ bind: (Statement) -> Void = { _ in }) throws(JournalError) {
        sqlite3_reset(s)
        sqlite3_clear_bindings(s)
        bind(self)
        let rc = sqlite3_step(s)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw db.error("step", rc) }
    }

    func bind(_ i: Int32, _ v: Int64) { sqlite3_bind_int64(s, i, v) }
    /// Binds the first parameter, for a query run with `rows`.
    func bound(_ v: Int64) -> Statement {
        sqlite3_reset(s)
        bind(1, v)
        return self
    }
    func bind(_ i: Int32, _ t: String) { sqlite3_bind_text(s, i, t, -1, Self.transient) }
    func bind(_ i: Int32, _ b: [UInt8]) {
        b.withUnsafeBytes { _ = sqlite3_bind_blob64(s, i, $0.baseAddress, sqlite3_uint64($0.count), Self.transient) }
    }

    /// Iterates the rows of a query.
    func rows(_ body: (Row) throws(JournalError) -> Void) throws(JournalError) {
        sqlite3_reset(s)
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw db.error("query", rc) }
            try body(Row(s: s))
        }
    }
}

struct Row {
    let s: OpaquePointer
    func int(_ i: Int32) -> Int64 { sqlite3_column_int64(s, i) }
    /// SQLITE_INTEGER, SQLITE_BLOB, …: a file's columns are checked before they are trusted.
    func type(_ i: Int32) -> Int32 { sqlite3_column_type(s, i) }
    func byteCount(_ i: Int32) -> Int { Int(sqlite3_column_bytes(s, i)) }
    func text(_ i: Int32) -> String? { sqlite3_column_text(s, i).map { String(cString: $0) } }
    /// The column's bytes, valid only inside `body` (SQLite owns them).
    func blob<R, E: Error>(_ i: Int32, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let p = sqlite3_column_blob(s, i)
        let n = Int(sqlite3_column_bytes(s, i))
        return try body(UnsafeRawBufferPointer(start: n > 0 ? p : nil, count: n))
    }
}
