import Foundation
import Glibc
import Model
import StoreObserver
import Testing

/// What Redis runs for a batch, seen by MONITOR (spec §4): one transaction holding an HSET of
/// both fields per SET, one SADD of every key, the DELs' SADD to the delete set and DEL of their
/// staging hashes, and a PUBLISH per 128 keys.
@Suite struct TransactionShapeTests {
    /// The commands MONITOR reports while `body` runs, each as its arguments.
    static func monitored(_ server: RedisServer, _ body: () throws -> Void) throws -> [[String]] {
        let monitor = try server.connect()
        _ = try monitor.command(["MONITOR"])
        try body()
        var lines: [String] = []
        while true {
            var p = pollfd(fd: monitor.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { break }
            lines += try monitor.readAvailable().compactMap(\.string)
        }
        // `1733140000.123456 [0 unix:/path] "MULTI" "arg"`: the quoted words, unescaped enough here.
        return lines.map { line in
            line.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { String($0.element) }
        }
    }

    @Test func aBatchIsOneTransactionOfTheSpecsCommands() throws {
        let server = try RedisServer()
        let c = try server.connect()
        let k1 = NeighborKey("Ethernet0:10.0.0.1")!
        let k2 = NeighborKey("Ethernet4:2000::2")!
        let k3 = NeighborKey("Vlan1000:10.0.0.3")!
        let e = NeighborEntry(mac: MACAddress("00:01:02:03:04:05")!, family: .ipv4)
        let writer = ProducerStateTable(connection: c)
        let commands = try Self.monitored(server) {
            try writer.write(Batch(id: 1, changes: [.set(k1, e), .del(k2), .set(k3, e)]))
        }
        #expect(
            commands == [
                ["MULTI"],
                ["HSET", "_NEIGH_TABLE:Ethernet0:10.0.0.1", "neigh", "00:01:02:03:04:05", "family", "IPv4"],
                ["HSET", "_NEIGH_TABLE:Vlan1000:10.0.0.3", "neigh", "00:01:02:03:04:05", "family", "IPv4"],
                ["SADD", "NEIGH_TABLE_KEY_SET", "Ethernet0:10.0.0.1", "Ethernet4:2000::2", "Vlan1000:10.0.0.3"],
                ["SADD", "NEIGH_TABLE_DEL_SET", "Ethernet4:2000::2"],
                ["DEL", "_NEIGH_TABLE:Ethernet4:2000::2"],
                ["PUBLISH", "NEIGH_TABLE_CHANNEL@0", "G"],
                ["EXEC"],
            ],
            "\(commands)"
        )
    }

    /// 300 keys in transactions of 256: two transactions, ⌈256/128⌉ + ⌈44/128⌉ notifications.
    @Test func aBatchSplitsIntoTransactionsEachPublishingOncePer128Keys() throws {
        let server = try RedisServer()
        let c = try server.connect()
        let e = NeighborEntry(mac: MACAddress("00:01:02:03:04:05")!, family: .ipv4)
        let changes: [Change] = (0..<300).map {
            .set(NeighborKey(interface: InterfaceName("Ethernet0")!, ip: IPAddress(ipv4: 0x0A00_0000 + UInt32($0))), e)
        }
        let writer = ProducerStateTable(connection: c, keysPerTransaction: 256)
        let names = try Self.monitored(server) { try writer.write(Batch(id: 1, changes: changes)) }.map { $0.first }
        #expect(names.filter { $0 == "MULTI" }.count == 2 && names.filter { $0 == "EXEC" }.count == 2)
        #expect(names.filter { $0 == "PUBLISH" }.count == 3)
        #expect(names.filter { $0 == "HSET" }.count == 300 && names.filter { $0 == "SADD" }.count == 2)
        #expect(try c.command(["SCARD", "NEIGH_TABLE_KEY_SET"]).integer == 300)
    }
}
