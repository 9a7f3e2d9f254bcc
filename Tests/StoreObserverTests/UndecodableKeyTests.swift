import Model
import Reconciler
import StoreObserver
import Testing

/// Issue 11 defect 9, store side: an APPL_DB key whose bytes are not UTF-8 was decoded lossily
/// (`Eth\xff` → `Eth\u{FFFD}`) and "repaired" by a DEL of the lossy key, which does not exist.
/// Such a key is left in place and reported; no change names a key that was not read.
@Suite struct UndecodableKeyTests {
    /// Writes with Lua: a command's arguments are Swift Strings, which cannot hold these bytes.
    static func lua(_ c: RedisConnection, _ body: String) throws -> RedisReply {
        try c.command(["EVAL", body, "0"])
    }

    @Test func keyThatIsNotUTF8IsReportedAndNeverDeletedUnderAnotherName() throws {
        let server = try RedisServer()
        let c = try server.connect()
        _ = try c.command(["HSET", "NEIGH_TABLE:Ethernet0:10.77.0.2", "neigh", "02:00:00:00:00:00", "family", "IPv4"])
        _ = try Self.lua(
            c,
            """
            local ff, fe, fd = 'Eth' .. string.char(255), 'Eth' .. string.char(254), 'Eth' .. string.char(253)
            redis.call('HSET', 'NEIGH_TABLE:' .. ff .. ':10.77.0.2', 'neigh', '02:00:00:00:00:01', 'family', 'IPv4')
            redis.call('HSET', 'NEIGH_TABLE:' .. fe .. ':junk', 'neigh', 'x')
            redis.call('HSET', '_NEIGH_TABLE:' .. fd .. ':10.77.0.3', 'neigh', '02:00:00:00:00:03', 'family', 'IPv4')
            redis.call('SADD', 'NEIGH_TABLE_KEY_SET', fd .. ':10.77.0.3')
            """
        )
        let (snapshot, issues) = try StoreReader.snapshot(c)
        let ethernet0 = NeighborKey("Ethernet0:10.77.0.2")!
        let entry = NeighborEntry(mac: MACAddress("02:00:00:00:00:00")!, family: .ipv4)
        #expect(snapshot.entries == [ethernet0: .valid(entry)])
        #expect(snapshot.malformedKeys.isEmpty)
        #expect(Set(issues.map(\.item)) == ["Eth\\xff:10.77.0.2", "Eth\\xfe:junk", "Eth\\xfd:10.77.0.3"])
        #expect(issues.allSatisfy { $0.reason.contains("not UTF-8") })

        // The plan that converges the store on an empty kernel, written as the daemon writes it.
        let plan = diff(desired: [:], actual: snapshot)
        #expect(plan.changes.map(\.keyText) == [ethernet0.description])
        try ProducerStateTable(connection: c).write(Batch(id: 1, changes: plan.changes))
        #expect(try c.command(["SMEMBERS", "NEIGH_TABLE_DEL_SET"]).array == [.string(ethernet0.description)])
        // The undecodable keys are still there, byte for byte.
        let left = try Self.lua(
            c,
            """
            local ff, fe, fd = 'Eth' .. string.char(255), 'Eth' .. string.char(254), 'Eth' .. string.char(253)
            return redis.call('EXISTS', 'NEIGH_TABLE:' .. ff .. ':10.77.0.2', 'NEIGH_TABLE:' .. fe .. ':junk',
                              '_NEIGH_TABLE:' .. fd .. ':10.77.0.3')
            """
        )
        #expect(left == .integer(3))
    }

    @Test func replyThatIsNotUTF8KeepsItsBytes() throws {
        let server = try RedisServer()
        let c = try server.connect()
        #expect(try Self.lua(c, "return 'Eth' .. string.char(255)") == .bytes(Array("Eth".utf8) + [0xFF]))
        #expect(try Self.lua(c, "return 'Eth' .. string.char(195, 169)") == .string("Eth\u{E9}"))
    }
}
