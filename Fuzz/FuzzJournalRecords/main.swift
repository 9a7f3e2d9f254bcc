import CFuzzDriver
import Foundation
@testable import Journal
import Model

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
    do { try Records.forEach(in: buf) { items.append($0); return true } } catch { return nil }
    return items
}

/// With NEIGHSYNCD_FUZZ_SEED_OUT set, writes seeds made by the journal's own encoder there, so
/// the seeds follow the format as it changes.
func writeSeeds(to dir: String) {
    let v4 = NeighborKey(interface: InterfaceName("Ethernet0")!, ip: IPAddress(ipv4: 0x0A00_0002))
    let v6 = NeighborKey(interface: InterfaceName("Vlan1000")!, ip: IPAddress(ipv6High: 0xFC00 << 48, low: 2))
    let e4 = NeighborEntry(mac: MACAddress(rawValue: 0x0200_0000_0001), family: .ipv4)
    let e6 = NeighborEntry(mac: MACAddress(rawValue: 0x0200_0000_0002), family: .ipv6)
    let seeds: [String: [UInt8]] = [
        "store-view": Records.encode(StoreSnapshot(entries: [v4: .valid(e4), v6: .malformed], malformedKeys: ["bad key"])).bytes,
        "desired-view": Records.encode([DesiredEntry(v4, e4), DesiredEntry(v6, e6)]).bytes,
        "batch": Records.encode([.set(v6, e6), .del(v4), .delMalformed("Ethernet0:10.0.0.02")]).bytes,
    ]
    for (name, bytes) in seeds {
        FileManager.default.createFile(atPath: "\(dir)/journal-\(name)", contents: Data(bytes))
    }
}

if let dir = ProcessInfo.processInfo.environment["NEIGHSYNCD_FUZZ_SEED_OUT"] { writeSeeds(to: dir) }
exit(nsd_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { fuzzJournalRecords($0, $1) })
