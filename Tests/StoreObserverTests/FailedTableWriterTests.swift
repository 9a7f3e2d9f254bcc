import Foundation
import Glibc
import Model
import StoreObserver
import Testing

/// Dual-ToR `NEIGH_FAILED_TABLE` (spec §12) against a real redis-server: the second
/// ProducerStateTable's names and payload, the row's one field, and the store read of its rows.
@Suite struct FailedTableWriterTests {
    static let k = NeighborKey("Vlan1000:fc02:1000::5")!

    static func writer(_ c: RedisConnection) -> ProducerStateTable {
        ProducerStateTable(connection: c, names: .neighFailedTable)
    }

    static func strings(_ r: RedisReply) -> [String] { r.array?.compactMap(\.string) ?? [] }

    /// Notifications on `channel` while `body` runs.
    static func publishes(_ server: RedisServer, _ channel: String, _ body: () throws -> Void) throws -> [String] {
        let sub = try server.connect()
        _ = try sub.command(["SUBSCRIBE", channel])
        try body()
        var payloads: [String] = []
        while true {
            var p = pollfd(fd: sub.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { return payloads }
            for m in try sub.readAvailable() where m.array?.first?.string == "message" {
                payloads.append(m.array?.last?.string ?? "")
            }
        }
    }

    @Test func setAndDelUseTheFailedTableNamesAndTheNullField() throws {
        let server = try RedisServer()
        let c = try server.connect()
        let w = Self.writer(c)
        let sent = try Self.publishes(server, "NEIGH_FAILED_TABLE_CHANNEL@0") {
            try w.run([FailedNeighborChange.set(Self.k)], what: "test")
        }
        #expect(sent == ["G"])
        #expect(Self.strings(try c.command(["SMEMBERS", "NEIGH_FAILED_TABLE_KEY_SET"])) == ["Vlan1000:fc02:1000::5"])
        #expect(
            Self.strings(try c.command(["HGETALL", "_NEIGH_FAILED_TABLE:Vlan1000:fc02:1000::5"])) == ["NULL", "NULL"]
        )
        // Nothing of NEIGH_TABLE's is touched.
        #expect(Self.strings(try c.command(["KEYS", "*NEIGH_TABLE*"])).isEmpty)

        // nbrmgrd's pop (a ConsumerStateTable) makes the consumed row.
        let consumer = ConsumerStateTable(connection: try server.connect(), names: .neighFailedTable)
        #expect(try consumer.pop().map(\.op) == ["SET"])
        #expect(
            Self.strings(try c.command(["HGETALL", "NEIGH_FAILED_TABLE:Vlan1000:fc02:1000::5"])) == ["NULL", "NULL"]
        )
        #expect(try StoreReader.failedNeighbors(c).keys == [Self.k])

        try w.run([FailedNeighborChange.del(Self.k)], what: "test")
        #expect(Self.strings(try c.command(["SMEMBERS", "NEIGH_FAILED_TABLE_DEL_SET"])) == ["Vlan1000:fc02:1000::5"])
        #expect(try c.command(["EXISTS", "_NEIGH_FAILED_TABLE:Vlan1000:fc02:1000::5"]).integer == 0)
        // Pending a DEL: read as gone.
        #expect(try StoreReader.failedNeighbors(c).keys.isEmpty)
        #expect(try consumer.pop().map(\.op) == ["DEL"])
        #expect(try c.command(["EXISTS", "NEIGH_FAILED_TABLE:Vlan1000:fc02:1000::5"]).integer == 0)
    }

    /// The read counts a pending SET and a consumed row, not a pending DEL, and reports a key
    /// that is not `<ifname>:<ip>` without failing.
    @Test func theStoreReadSeesRowsPendingOrConsumed() throws {
        let server = try RedisServer()
        let c = try server.connect()
        let consumed = NeighborKey("Vlan1000:fc02:1000::6")!
        _ = try c.command(["HSET", "NEIGH_FAILED_TABLE:\(consumed)", "NULL", "NULL"])
        _ = try c.command(["HSET", "NEIGH_FAILED_TABLE:garbage", "NULL", "NULL"])
        try Self.writer(c).run([FailedNeighborChange.set(Self.k)], what: "test")
        let read = try StoreReader.failedNeighbors(c)
        #expect(read.keys == [Self.k, consumed])
        #expect(read.issues.map(\.item) == ["NEIGH_FAILED_TABLE:garbage"])
    }

    /// Not part of warm restart: the warm start's `clear()` of NEIGH_TABLE's pending operations
    /// leaves NEIGH_FAILED_TABLE's alone.
    @Test func theWarmStartClearLeavesTheFailedTable() throws {
        let server = try RedisServer()
        let c = try server.connect()
        try Self.writer(c).run([FailedNeighborChange.set(Self.k)], what: "test")
        try ProducerStateTable(connection: c).clearPending()
        #expect(try c.command(["EXISTS", "_NEIGH_FAILED_TABLE:Vlan1000:fc02:1000::5"]).integer == 1)
        #expect(try StoreReader.failedNeighbors(c).keys == [Self.k])
    }
}
