import CSQLite
import Glibc
import Model

/// A journal opened only to read (`status`, `reconcile --journal`): read-only, no lock, no
/// `journal_mode` pragma, no migration; it never creates a file, and says plainly when a file is
/// not a journal it can read.
///
/// A journal with a `-wal` (a daemon running, or killed) is opened `mode=ro`: SQLite then needs
/// the `-shm` beside it, which it creates if it is missing and the folder allows. A journal
/// without one (a clean exit, or a copy) is opened `immutable=1`: no side file, no lock, works in
/// a read-only folder; a daemon starting on it meanwhile can make the read fail (run it again).
public final class JournalReader {
    public let path: String
    let contents: JournalContents

    public init(path: String) throws(JournalError) {
        self.path = path
        try JournalPath.check(path)
        guard let st = JournalPath.status(path) else { throw JournalError(kind: .io, message: "\(path): no such file") }
        guard st.st_size > 0 else {
            throw JournalError(kind: .foreign, message: "\(path) is an empty file, not a neighsyncd journal")
        }
        try Self.checkHeader(path)
        let live = JournalPath.exists(path + "-wal") || JournalPath.exists(path + "-journal")
        let db = try Database(path: path, readOnlyURI: Self.uri(path, live ? "mode=ro" : "immutable=1"))
        contents = JournalContents(db: db, path: path)
        do {
            try Self.checkSchema(db, path: path)
        } catch  where error.kind == .io && live && !JournalPath.exists(path + "-shm") {
            // SQLite reads a WAL through its -shm, which it could not create here.
            throw JournalError(
                kind: .io,
                message: "\(error.message); it has a -wal (a daemon running, or killed) "
                    + "and no -shm, which this user cannot create beside it: read it as its owner, or copy the journal "
                    + "and its -wal to a writable folder"
            )
        }
    }

    /// The desired view (the last dump's, brought up to the last batch written), the store view
    /// and the batches in flight.
    public func load() throws(JournalError) -> JournalImage { try contents.load(includingDesired: true) }

    /// Whether a kernel dump was ever recorded: without one there is no desired view to compare.
    public func hasDump() throws(JournalError) -> Bool { try contents.hasDump() }

    /// Metadata for `status`: created, last_batch, last_applied_at, last_dump_at.
    public func metadata() throws(JournalError) -> [String: String] { try contents.metadata() }

    private static func checkHeader(_ path: String) throws(JournalError) {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw JournalError(kind: .io, message: "\(path): cannot read: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let n = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n == 16, header == Array("SQLite format 3\0".utf8) else {
            throw JournalError(kind: .corrupt, message: "\(path) is not a SQLite file, so not a neighsyncd journal")
        }
    }

    /// The same checks as the daemon's open, without the migration it would run.
    private static func checkSchema(_ db: Database, path: String) throws(JournalError) {
        var version: Int64 = 0
        var app: Int64 = 0
        try db.prepare("PRAGMA user_version").rows { version = $0.int(0) }
        try db.prepare("PRAGMA application_id").rows { app = $0.int(0) }
        guard app == Journal.applicationID else {
            throw JournalError(kind: .foreign, message: "\(path): a SQLite database that is not a neighsyncd journal")
        }
        let ours = Journal.schemaVersion
        if version > ours {
            throw JournalError(
                kind: .newerSchema,
                message: "\(path): schema \(version) is newer than this neighsyncd's \(ours)"
            )
        }
        if version < ours {
            let why = "schema \(version), this neighsyncd reads schema \(ours); run the daemon once to migrate"
            throw JournalError(kind: .olderSchema, message: "\(path): \(why)")
        }
        try Journal.quickCheck(db, path: path)
    }

    /// A `file:` URI for `path` with one query parameter; `%`, `?` and `#` are escaped.
    static func uri(_ path: String, _ parameter: String) -> String {
        var escaped = ""
        for c in path.unicodeScalars {
            switch c {
            case "%": escaped += "%25"
            case "?": escaped += "%3f"
            case "#": escaped += "%23"
            default: escaped.unicodeScalars.append(c)
            }
        }
        return (path.hasPrefix("/") ? "file://" : "file:") + escaped + "?" + parameter
    }
}
