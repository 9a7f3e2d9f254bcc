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
    /// the second's OOM refusal stays the second's, and nothing is left awaited.
    @Test func repliesSplitAcrossReadsAreMatchedToTheirBatches() throws {
        let fake = try CannedReplies()
        let sha = String(repeating: "b", count: 40)
        let oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        let replies = "$40\r\n\(sha)\r\n" + ":1\r\n:1\r\n" + oom
        let c = try fake.connect(trickling: Array(replies.utf8))
        let writer = ProducerStateTable(connection: c, keysPerCall: 1)
        var sent = [try writer.send(Batch(id: 1, changes: [.del(Self.k1), .del(Self.k2)]))]
        sent.append(try writer.send(Batch(id: 2, changes: [.del(Self.k3)])))
        let first = try writer.collect(&sent)
        #expect(first.replies.map(\.id) == [1] && first.replies.first?.refusal == nil && first.published == 2)
        let second = try writer.collect(&sent)
        #expect(second.replies.map(\.id) == [2])
        #expect(second.replies.first?.refusal?.hasPrefix("OOM") == true)
        #expect(sent.isEmpty && c.repliesAwaited == 0 && !c.broken)
    }
}
