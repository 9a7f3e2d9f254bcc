import CFuzzDriver
import Foundation
import JournalSamples

@testable import Journal

/// One journal BLOB (a view, a delta or a batch in flight), as `Journal.load` decodes it. What
/// decodes is written back and must decode the same: the reader accepts nothing the writer would
/// say differently.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournalRecords(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let items = decode(UnsafeRawBufferPointer(start: data, count: size)) else { return 0 }
    var w = Records.Writer(capacity: items.count)
    for item in items {
        switch item {
        case .set(let k, let e): w.set(k, e)
        case .del(let k): w.del(k)
        case .malformedEntry(let k): w.malformedEntry(k)
        case .malformedKey(let raw): w.malformedKey(raw)
        }
    }
    let again = w.bytes.withUnsafeBytes { decode($0) }
    guard let again, "\(again)" == "\(items)" else {
        fatalError("records re-encoded decode differently:\n\(items)\n\(again.map { "\($0)" } ?? "damaged")")
    }
    return 0
}

private func decode(_ buf: UnsafeRawBufferPointer) -> [Records.Item]? {
    var items: [Records.Item] = []
    do {
        try Records.forEach(in: buf) {
            items.append($0)
            return true
        }
    } catch { return nil }
    return items
}

/// With NEIGHSYNCD_FUZZ_SEED_OUT set, writes seeds there.
func writeSeeds(to dir: String) {
    for b in JournalSamples.blobs {
        FileManager.default.createFile(atPath: "\(dir)/journal-\(b.name)", contents: Data(b.bytes))
    }
}

if let dir = ProcessInfo.processInfo.environment["NEIGHSYNCD_FUZZ_SEED_OUT"] { writeSeeds(to: dir) }
exit(nsd_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { fuzzJournalRecords($0, $1) })
