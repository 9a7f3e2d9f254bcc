import CFuzzDriver
import CSQLite
import Foundation
import Journal
import JournalSamples

/// A journal file whose rows come from the input, opened and loaded as a daemon start does: every
/// count and BLOB in the file is untrusted. The input is rows, each
/// `table (1 byte) · count (8 bytes, big-endian) · BLOB length (2 bytes, big-endian) · BLOB`, where
/// `table % 4` picks the store view, the desired view, a delta or a batch in flight.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournalFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let rows = Row.parse(UnsafeRawBufferPointer(start: data, count: size))
    let path = workspace.path
    for suffix in ["-wal", "-shm"] { unlink(path + suffix) }
    FileManager.default.createFile(atPath: path, contents: Data(workspace.template))
    guard write(rows, to: path) else { return 0 }
    guard let journal = try? Journal(path: path) else { return 0 }
    _ = try? journal.load()
    return 0
}

struct Row {
    static let statements = [
        "INSERT OR REPLACE INTO view VALUES ('actual', ?2, ?1)",
        "INSERT OR REPLACE INTO view VALUES ('desired', ?2, ?1)",
        "INSERT INTO delta (batch, records, count) VALUES (?3, ?2, ?1)",
        "INSERT OR REPLACE INTO inflight VALUES (?3, ?2, ?1)",
    ]
    var table: Int
    var count: Int64
    var blob: [UInt8]

    static func parse(_ buf: UnsafeRawBufferPointer) -> [Row] {
        var rows: [Row] = []
        var o = 0
        while o + 11 <= buf.count {
            let count = buf[(o + 1)..<(o + 9)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let length = Int(buf[o + 9]) << 8 | Int(buf[o + 10])
            let end = min(o + 11 + length, buf.count)
            rows.append(Row(table: Int(buf[o] % 4), count: Int64(bitPattern: count), blob: Array(buf[(o + 11)..<end])))
            o = end
        }
        return rows
    }

    var bytes: [UInt8] {
        [UInt8(table)] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(bitPattern: count) >> ($0 * 8)) }
            + [UInt8(blob.count >> 8), UInt8(truncatingIfNeeded: blob.count)] + blob
    }
}

/// Writes the rows with SQLite itself, not through `Journal`, which would refuse them.
private func write(_ rows: [Row], to path: String) -> Bool {
    var db: OpaquePointer?
    defer { sqlite3_close_v2(db) }
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else { return false }
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    for (i, row) in rows.enumerated() {
        var s: OpaquePointer?
        guard sqlite3_prepare_v2(db, Row.statements[row.table], -1, &s, nil) == SQLITE_OK else { return false }
        defer { sqlite3_finalize(s) }
        sqlite3_bind_int64(s, 1, row.count)
        _ = row.blob.withUnsafeBytes { b in
            b.isEmpty
                ? sqlite3_bind_zeroblob(s, 2, 0)
                : sqlite3_bind_blob(s, 2, b.baseAddress, Int32(b.count), transient)
        }
        sqlite3_bind_int64(s, 3, Int64(i + 1))
        guard sqlite3_step(s) == SQLITE_DONE else { return false }
    }
    return true
}

/// A folder under $TMPDIR (scripts/fuzz points it at memory and removes it, even after a crash)
/// holding the file under test, and the bytes of a freshly created journal each input starts from.
struct Workspace {
    let path: String
    /// Bytes, not `Data`: LeakSanitizer cannot follow a pointer `Data` keeps with tag bits in it.
    let template: [UInt8]

    init() {
        var pattern = Array("\(NSTemporaryDirectory())/nsd-fuzz-journal-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&pattern) else { fatalError("mkdtemp: \(String(cString: strerror(errno)))") }
        let folder = String(cString: dir)
        path = folder + "/journal"
        let templatePath = folder + "/template"
        do { _ = try Journal(path: templatePath) } catch { fatalError("creating a journal: \(error)") }
        guard let bytes = FileManager.default.contents(atPath: templatePath) else {
            fatalError("reading \(templatePath)")
        }
        template = Array(bytes)
        atexit { try? FileManager.default.removeItem(atPath: (workspace.path as NSString).deletingLastPathComponent) }
    }
}

/// With NEIGHSYNCD_FUZZ_SEED_OUT set, writes a seed there: rows as a daemon writes them.
func writeSeeds(to dir: String) {
    let store = JournalSamples.blobs[0]
    let desired = JournalSamples.blobs[1]
    let batch = JournalSamples.blobs[2]
    let rows = [
        Row(table: 0, count: Int64(store.count), blob: store.bytes),
        Row(table: 1, count: Int64(desired.count), blob: desired.bytes),
        Row(table: 2, count: Int64(batch.count), blob: batch.bytes),
        Row(table: 3, count: Int64(batch.count), blob: batch.bytes),
    ]
    FileManager.default.createFile(atPath: "\(dir)/journal-file", contents: Data(rows.flatMap(\.bytes)))
}

let workspace = Workspace()
if let dir = ProcessInfo.processInfo.environment["NEIGHSYNCD_FUZZ_SEED_OUT"] { writeSeeds(to: dir) }
exit(nsd_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { fuzzJournalFile($0, $1) })
