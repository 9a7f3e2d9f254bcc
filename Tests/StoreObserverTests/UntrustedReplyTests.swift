import CannedRedis
import Model
import StoreObserver
import Testing

/// Numbers in Redis replies and values are outside input: found by the fuzz target
/// FuzzRedisReplies (reproducers under Fuzz/crashes/), each used to trap the daemon.
@Suite struct UntrustedReplyTests {
    /// A script reply of Int64.max, twice, overflowed the sum of notifications published.
    @Test func producerStateTableRefusesAnImpossibleNotificationCount() throws {
        let fake = try CannedReplies()
        let sha = String(repeating: "a", count: 40)
        let c = try fake.connect(replying: "$40\r\n\(sha)\r\n:9223372036854775807\r\n:9223372036854775807\r\n")
        let writer = ProducerStateTable(connection: c, keysPerCall: 1)
        let k = NeighborKey(interface: InterfaceName("Ethernet0")!, ip: IPAddress(ipv4: 0x0A00_0002))
        let other = NeighborKey(interface: k.interface, ip: IPAddress(ipv4: 0x0A00_0003))
        let batch = Batch(id: 1, changes: [.del(k), .del(other)])
        #expect(throws: RedisError.self) { try writer.write(batch) }
    }

    /// A `restore_count` of Int.max overflowed when incremented; it is no count: a cold start.
    @Test func warmStartWithAnUnincrementableRestoreCountIsCold() throws {
        let server = try RedisServer()
        let state = try server.connect(6)
        let config = try server.connect(4)
        _ = try state.command(["HSET", "WARM_RESTART_ENABLE_TABLE|system", "enable", "true"])
        _ = try state.command(["HSET", "WARM_RESTART_TABLE|neighsyncd", "restore_count", String(Int.max)])
        #expect(try WarmRestartStore(state: state, config: config).begin() == (false, 0))
        #expect(try state.command(["HGET", "WARM_RESTART_TABLE|neighsyncd", "restore_count"]).string == "0")
    }
}
