import CFuzzDriver
import CannedRedis
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
    let c: RedisConnection
    do {
        c = try server.connect(
            replying: Array(UnsafeBufferPointer(start: data + 1, count: size - 1)),
            timeoutMilliseconds: 1000
        )
    } catch {
        fatalError("the fake server at \(server.socketPath): \(error)")
    }
    defer { server.closeConnections() }
    read(with: c, mode: data[0])
    return 0
}

/// hiredis (0.14) allocates an array's element pointers as soon as it reads `*N`, before any
/// element arrives: `*1000000000` is an 8 GB allocation of hiredis' own (virtual, never touched),
/// which libFuzzer reports as out-of-memory. Such inputs are skipped so the search goes on.
private func claimsAHugeArray(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var digits = -1  // after a `*`: the digits seen so far; -1 elsewhere
    for b in bytes {
        let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
        if b == UInt8(ascii: "*") {
            digits = 0
        } else if digits >= 0, isDigit {
            digits += 1
            if digits > 6 { return true }
        } else {
            digits = -1
        }
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
        let p = ProducerStateTable(connection: c, keysPerTransaction: 2)
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

/// libFuzzer calls the target from one thread only.
nonisolated(unsafe) let server: CannedReplies = {
    do {
        return try CannedReplies()
    } catch {
        fatalError("the fake server: \(error)")
    }
}()
atexit { try? FileManager.default.removeItem(atPath: server.folder) }
exit(nsd_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { fuzzRedisReplies($0, $1) })
