import Model
import StoreObserver
import Testing

/// A consumed `NEIGH_TABLE` value that is not a hash, repaired: orchagent's pop must not fail on it.
@Suite struct MalformedRepairTests {
    static let k = NeighborKey("Ethernet0:10.0.0.1")!
    static let e = NeighborEntry(mac: MACAddress("00:01:02:03:04:05")!, family: .ipv4)

    @Test func aStringValueIsReplacedByAHashAndThePopSucceeds() throws {
        let server = try RedisServer()
        let c = try server.connect()
        let consumer = ConsumerStateTable(connection: try server.connect())
        _ = try c.command(["SET", "NEIGH_TABLE:Ethernet0:10.0.0.1", "x"])
        #expect(try StoreReader.snapshot(c).snapshot.entries[Self.k] == .malformed)
        // The daemon's repair of that key: a SET over a malformed value.
        try ProducerStateTable(connection: c).write(Batch(id: 1, changes: [.set(Self.k, Self.e)], replacing: [Self.k]))
        #expect(try StoreReader.snapshot(c).snapshot.entries[Self.k] == .valid(Self.e), "before the pop")
        let popped = try consumer.drain()
        #expect(popped == 1)
        #expect(try c.command(["TYPE", "NEIGH_TABLE:Ethernet0:10.0.0.1"]).string == "hash")
        let after = try StoreReader.snapshot(c)
        #expect(after.snapshot.entries[Self.k] == .valid(Self.e))
        #expect(after.issues.isEmpty)
    }

    /// A plain SET over a value that is not a hash: the pop's HSET fails, the value stays. The
    /// reader must say so (malformed), not merge the staging fields over it.
    @Test func aPlainSetOverAStringIsStillMalformed() throws {
        let server = try RedisServer()
        let c = try server.connect()
        _ = try c.command(["SET", "NEIGH_TABLE:Ethernet0:10.0.0.1", "x"])
        try ProducerStateTable(connection: c).write(Batch(id: 1, changes: [.set(Self.k, Self.e)]))
        #expect(try StoreReader.snapshot(c).snapshot.entries[Self.k] == .malformed)
        #expect(throws: RedisError.self) { try ConsumerStateTable(connection: try server.connect()).drain() }
        #expect(try StoreReader.snapshot(c).snapshot.entries[Self.k] == .malformed)
    }

    /// A delete set that is not a set: the pending keys are still read, and the reader says why
    /// their DELs cannot be (the script's SISMEMBER met WRONGTYPE and failed every read).
    @Test func aDeleteSetThatIsNotASetIsReportedNotFatal() throws {
        let server = try RedisServer()
        let c = try server.connect()
        _ = try c.command(["SET", "NEIGH_TABLE_DEL_SET", "x"])
        try ProducerStateTable(connection: c).write(Batch(id: 1, changes: [.set(Self.k, Self.e)]))
        let (snap, issues) = try StoreReader.snapshot(c)
        #expect(snap.entries[Self.k] == .valid(Self.e))
        #expect(issues.contains { $0.item == "NEIGH_TABLE_DEL_SET" }, "\(issues)")
    }
}
