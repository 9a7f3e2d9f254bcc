import CFuzzDriver
import Foundation
import Glibc
import Model
import StoreObserver

/// Redis replies, as every reader of them receives them: the input after its first byte is what
/// a fake server sends on a fresh connection (hiredis parses it into reply trees), and the first
/// byte picks the reader. Each reader stops at the first error; the input's end closes the
/// connection, so every loop ends.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedisReplies(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0, !claimsAHugeArray(UnsafeBufferPointer(start: data, count: size)) else { return 0 }
    let endpoint = RedisEndpoint.unix(path: server.path)
    guard let c = try? RedisConnection(endpoint: endpoint, database: 0, timeoutMilliseconds: 1000) else {
        fatalError("cannot connect to the fake server at \(server.path)")
    }
    let peer = accept(server.listener, nil, nil)
    guard peer >= 0 else { fatalError("accept: \(String(cString: strerror(errno)))") }
    defer { close(peer) }
    var sent = 1
    while sent < size {
        let n = Glibc.write(peer, data + sent, size - sent)
        guard n > 0 else { fatalError("write to the fake client: \(String(cString: strerror(errno)))") }
        sent += n
    }
    shutdown(peer, Int32(SHUT_WR))   // the replies end here: a reader waiting for more sees EOF
    read(with: c, mode: data[0])
    return 0
}

/// hiredis (0.14) allocates an array's element pointers as soon as it reads `*N`, before any
/// element arrives: `*1000000000` is an 8 GB allocation of hiredis' own (virtual, never touched),
/// which libFuzzer reports as out-of-memory. Such inputs are skipped so the search goes on.
private func claimsAHugeArray(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var digits = -1   // after a `*`: the digits seen so far; -1 elsewhere
    for b in bytes {
        let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
        if b == UInt8(ascii: "*") { digits = 0 } else if digits >= 0, isDigit {
            digits += 1
            if digits > 6 { return true }
        } else { digits = -1 }
    }
    return false
}

private func read(with c: RedisConnection, mode: UInt8) {
    let k4 = NeighborKey(interface: InterfaceName("Ethernet0")!, ip: IPAddress(ipv4: 0x0A00_0002))
    let k6 = NeighborKey(interface: InterfaceName("Vlan1000")!, ip: IPAddress(ipv6High: 0xFC00 << 48, low: 2))
    let e = NeighborEntry(mac: MACAddress(rawValue: 0x0200_0000_0001), family: .ipv4)
    switch mode % 8 {
    case 0: _ = try? StoreReader.snapshot(c, expected: 4)
    case 1: _ = try? StoreReader.content(c)
    case 2: _ = try? ConfigReader.policy(c)
    case 3:
        let w = WarmRestartStore(state: c, config: c)
        _ = try? w.begin()
        _ = try? w.reconcileTimer()
        _ = try? w.restoreFlagSet()
    case 4:
        let p = ProducerStateTable(connection: c, keysPerCall: 2)
        _ = try? p.write(Batch(id: 1, changes: [.set(k4, e), .del(k6), .delMalformed("x")]))
        if let sent = try? p.send(Batch(id: 2, changes: [.del(k4)])) {
            var pipeline = [sent]
            _ = try? p.collect(&pipeline)
        }
    case 5:
        guard let w = try? PolicyWatcher(subscriber: c, database: 4) else { return }
        while (try? w.changed()) != nil {}
    case 6: _ = try? ConsumerStateTable(connection: c).drain()
    default:
        while let r = try? c.command(["PING"]) { _ = "\(r)" }
    }
}

/// A listening unix socket in a private folder under $TMPDIR: connecting completes at once (the
/// backlog), so one thread plays both ends.
struct FakeServer {
    let path: String
    let listener: Int32

    init() {
        var pattern = Array("\(NSTemporaryDirectory())/nsd-fuzz-redis-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&pattern) else { fatalError("mkdtemp: \(String(cString: strerror(errno)))") }
        path = String(cString: dir) + "/redis.sock"
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { p in
            for (i, b) in path.utf8.prefix(p.count - 1).enumerated() { p[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard listener >= 0, bound == 0, listen(listener, 4) == 0 else {
            fatalError("listening on \(path): \(String(cString: strerror(errno)))")
        }
        atexit { try? FileManager.default.removeItem(atPath: (server.path as NSString).deletingLastPathComponent) }
    }
}

let server = FakeServer()
exit(nsd_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { fuzzRedisReplies($0, $1) })
