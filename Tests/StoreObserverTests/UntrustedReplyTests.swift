import CannedRedis
import Model
import StoreObserver
import Testing

/// Numbers in Redis replies and values are outside input: found by the fuzz target
/// FuzzRedisReplies (reproducers under Fuzz/crashes/), each used to trap the daemon.
@Suite struct UntrustedReplyTests {
    /// Replies that do not fit the transaction sent are no refusal but a connection out of step
    /// (`.reply`: the daemon drops the connection and reads the store again): an EXEC array
    /// shorter than the commands queued, a queued command answering a number, MULTI answering
    /// anything but OK or an error.
    @Test(arguments: [
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*1\r\n:1\r\n",
        "+OK\r\n:1\r\n",
        "$2\r\nOK\r\n",
    ]) func producerStateTableRejectsRepliesOutOfStep(replies: String) throws {
        let fake = try CannedReplies()
        let c = try fake.connect(replying: replies)
        let writer = ProducerStateTable(connection: c)
        let k = NeighborKey(interface: InterfaceName("Ethernet0")!, ip: IPAddress(ipv4: 0x0A00_0002))
        #expect { try writer.write(Batch(id: 1, changes: [.del(k)])) } throws: {
            ($0 as? RedisError)?.kind == .reply
        }
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
