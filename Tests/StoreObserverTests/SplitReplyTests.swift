import CannedRedis
import Model
import StoreObserver
import Testing

/// Replies that reach the client in pieces, as they do from a busy server or across a slow link.
@Suite struct SplitReplyTests {
    static let k1 = NeighborKey(interface: InterfaceName("Ethernet0")!, ip: IPAddress(ipv4: 0x0A00_0002))
    static let k2 = NeighborKey(interface: InterfaceName("Ethernet0")!, ip: IPAddress(ipv4: 0x0A00_0003))
    static let k3 = NeighborKey(interface: InterfaceName("Vlan1000")!, ip: IPAddress(ipv4: 0x0A00_0004))

    /// Two batches in flight, every reply split byte by byte: each batch gets its own replies,
    /// the second's OOM refusal (a queued command refused, EXEC aborted) stays the second's, and
    /// nothing is left awaited.
    @Test func repliesSplitAcrossReadsAreMatchedToTheirBatches() throws {
        let fake = try CannedReplies()
        // A transaction of one DEL: MULTI, SADD key set, SADD delete set, DEL, PUBLISH, EXEC.
        let applied = "+OK\r\n" + String(repeating: "+QUEUED\r\n", count: 4) + "*4\r\n:1\r\n:1\r\n:0\r\n:0\r\n"
        let oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        let aborted =
            "+OK\r\n" + oom + String(repeating: "+QUEUED\r\n", count: 3)
            + "-EXECABORT Transaction discarded because of previous errors.\r\n"
        let c = try fake.connect(trickling: Array((applied + applied + aborted).utf8))
        let writer = ProducerStateTable(connection: c, keysPerTransaction: 1)
        var sent = [try writer.send(Batch(id: 1, changes: [.del(Self.k1), .del(Self.k2)]))]
        sent.append(try writer.send(Batch(id: 2, changes: [.del(Self.k3)])))
        let first = try writer.collect(&sent)
        #expect(first.id == 1 && first.refusal == nil)
        let second = try writer.collect(&sent)
        #expect(second.id == 2 && second.refusal?.hasPrefix("OOM") == true, "\(second)")
        #expect(sent.isEmpty && c.repliesAwaited == 0 && !c.broken)
    }
}
