import Foundation
import Glibc
import Model
import Reconciler
import StoreObserver
import Testing

/// The ProducerStateTable effects a consumer observes, against a real redis-server.
@Suite struct ProducerStateTableTests {
    static let k = NeighborKey("Ethernet0:10.0.0.1")!
    static func e(_ mac: String) -> NeighborEntry { NeighborEntry(mac: MACAddress(mac)!, family: .ipv4) }

    /// Counts PUBLISHes on the channel while `body` runs.
    static func publishes(_ server: RedisServer, _ body: () throws -> Void) throws -> Int {
        let sub = try server.connect()
        _ = try sub.command(["SUBSCRIBE", "NEIGH_TABLE_CHANNEL@0"])
        try body()
        var count = 0
        while true {
            var p = pollfd(fd: sub.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { return count }
            count += try sub.readAvailable().filter {
                $0.array?.first?.string == "message" && $0.array?.last?.string == "G"
            }.count
        }
    }

    /// A private redis-server, a writer, and a consumer with orchagent's pop on a connection of its own.
    static func fixture() throws -> (RedisServer, RedisConnection, ProducerStateTable, ConsumerStateTable) {
        let server = try RedisServer()
        let c = try server.connect()
        return (server, c, ProducerStateTable(connection: c), ConsumerStateTable(connection: try server.connect()))
    }

    static func fields(_ c: RedisConnection, _ key: String) throws -> [String] {
        try c.command(["HGETALL", key]).array?.compactMap(\.string) ?? []
    }

    @Test func setWritesKeySetStagingHashInOrderAndPublishes() throws {
        let (server, c, writer, consumer) = try Self.fixture()
        let n = try Self.publishes(server) {
            try writer.write(Batch(id: 1, changes: [.set(Self.k, Self.e("00:01:02:03:04:05"))]))
        }
        #expect(n == 1)
        #expect(
            try c.command(["SMEMBERS", "NEIGH_TABLE_KEY_SET"]).array?.compactMap(\.string) == ["Ethernet0:10.0.0.1"]
        )
        #expect(
            try Self.fields(c, "_NEIGH_TABLE:Ethernet0:10.0.0.1") == ["neigh", "00:01:02:03:04:05", "family", "IPv4"]
        )
        // only the consumer writes it
        #expect(try c.command(["EXISTS", "NEIGH_TABLE:Ethernet0:10.0.0.1"]).integer == 0)
        // A MAC change before the pop: the staging hash changes; every transaction publishes
        // (a second notification pops an empty set: harmless, spec §4).
        let m = try Self.publishes(server) {
            try writer.write(Batch(id: 2, changes: [.set(Self.k, Self.e("00:01:02:03:04:06"))]))
        }
        #expect(m == 1)
        #expect(
            try Self.fields(c, "_NEIGH_TABLE:Ethernet0:10.0.0.1") == ["neigh", "00:01:02:03:04:06", "family", "IPv4"]
        )
        #expect(try consumer.pop().map(\.op) == ["SET"])
        #expect(
            try Self.fields(c, "NEIGH_TABLE:Ethernet0:10.0.0.1") == ["neigh", "00:01:02:03:04:06", "family", "IPv4"]
        )
        #expect(try c.command(["EXISTS", "_NEIGH_TABLE:Ethernet0:10.0.0.1"]).integer == 0)
    }

    @Test func delAddsToDeleteSetAndDropsStaging() throws {
        let (server, c, writer, consumer) = try Self.fixture()
        try writer.write(Batch(id: 1, changes: [.set(Self.k, Self.e("00:01:02:03:04:05"))]))
        try consumer.drain()
        let n = try Self.publishes(server) { try writer.write(Batch(id: 2, changes: [.del(Self.k)])) }
        #expect(n == 1)
        #expect(try c.command(["SISMEMBER", "NEIGH_TABLE_DEL_SET", Self.k.description]).integer == 1)
        #expect(try c.command(["SISMEMBER", "NEIGH_TABLE_KEY_SET", Self.k.description]).integer == 1)
        #expect(try consumer.pop().map(\.op) == ["DEL"])
        #expect(try c.command(["EXISTS", "NEIGH_TABLE:Ethernet0:10.0.0.1"]).integer == 0)
        #expect(try c.command(["SCARD", "NEIGH_TABLE_DEL_SET"]).integer == 0)
    }

    @Test func delThenSetBeforeAPopIsOneSet() throws {
        let (server, c, writer, consumer) = try Self.fixture()
        try writer.write(Batch(id: 1, changes: [.set(Self.k, Self.e("00:00:00:00:00:01"))]))
        try consumer.drain()
        let n = try Self.publishes(server) {
            try writer.write(Batch(id: 2, changes: [.del(Self.k)]))
            try writer.write(Batch(id: 3, changes: [.set(Self.k, Self.e("00:00:00:00:00:02"))]))
        }
        #expect(n == 2)
        #expect(try consumer.pop().map(\.op) == ["SET"])
        #expect(
            try Self.fields(c, "NEIGH_TABLE:Ethernet0:10.0.0.1") == ["neigh", "00:00:00:00:00:02", "family", "IPv4"]
        )
    }

    @Test func setThenDelBeforeAPopIsOneDel() throws {
        let (server, c, writer, consumer) = try Self.fixture()
        let n = try Self.publishes(server) {
            try writer.write(Batch(id: 1, changes: [.set(Self.k, Self.e("00:00:00:00:00:01"))]))
            try writer.write(Batch(id: 2, changes: [.del(Self.k)]))
        }
        #expect(n == 2)
        #expect(try consumer.pop().map(\.op) == ["DEL"])
        #expect(try c.command(["EXISTS", "NEIGH_TABLE:Ethernet0:10.0.0.1"]).integer == 0)
    }

    static func table(_ count: Int, salt: UInt64 = 0) -> [NeighborKey: NeighborEntry] {
        var t: [NeighborKey: NeighborEntry] = [:]
        for i in 0..<count {
            let ip =
                i % 2 == 0
                ? IPAddress(ipv4: 0x0A00_0000 | UInt32(i)) : IPAddress(ipv6High: 0x2000_0000_0000_0000, low: UInt64(i))
            t[NeighborKey(interface: InterfaceName("Ethernet\(i % 32 * 4)")!, ip: ip)] = NeighborEntry(
                mac: MACAddress(rawValue: UInt64(i) ^ salt),
                family: ip.family
            )
        }
        return t
    }

    @Test func batchOf100000() throws {
        let server = try RedisServer()
        let c = try server.connect()
        let desired = Self.table(100_000)
        let plan = diff(desired: desired, actual: StoreSnapshot())
        let writer = ProducerStateTable(connection: c)
        let n = try Self.publishes(server) { try writer.write(Batch(id: 1, changes: plan.changes)) }
        // 100 transactions of 1,000 keys, ⌈1000/128⌉ notifications each: at least one per 128 keys.
        #expect(n == 800)
        #expect(try c.command(["SCARD", "NEIGH_TABLE_KEY_SET"]).integer == 100_000)
        // What the daemon reads back before the consumer ran, and after.
        #expect(try StoreReader.snapshot(c).snapshot == StoreSnapshot(valid: desired))
        // orchagent: one pop of at most 128 keys per notification received, and no more.
        let consumer = ConsumerStateTable(connection: try server.connect())
        var popped = 0
        for _ in 0..<n { popped += try consumer.pop(count: 128).count }
        #expect(popped == 100_000)
        let after = try StoreReader.snapshot(c)
        #expect(after.issues.isEmpty)
        #expect(after.snapshot == StoreSnapshot(valid: desired))
    }

    /// Spec §4: a consumer pops at most 128 keys per notification, so a batch of n new keys must
    /// publish at least ⌈n/128⌉ times, whatever the batch's size and its split into transactions;
    /// popping 128 per notification received then consumes every key.
    @Test(arguments: [1, 127, 128, 129, 1000, 1001, 2500]) func enoughNotificationsForA128KeyConsumer(
        count: Int
    ) throws {
        let (server, _, writer, _, changes) = try Self.writing(count, keysPerTransaction: 1000)
        let n = try Self.publishes(server) { try writer.write(Batch(id: 1, changes: changes)) }
        #expect(n >= (count + 127) / 128)
        let consumer = ConsumerStateTable(connection: try server.connect())
        var popped = 0
        for _ in 0..<n { popped += try consumer.pop(count: 128).count }
        #expect(popped == count)
    }

    /// A private redis-server, a writer of `keysPerTransaction` keys per transaction, and the changes
    /// that write a table of `count` entries into an empty store.
    static func writing(
        _ count: Int,
        keysPerTransaction: Int
    ) throws
        -> (
            server: RedisServer, connection: RedisConnection, writer: ProducerStateTable,
            desired: [NeighborKey: NeighborEntry], changes: [Change]
        )
    {
        let server = try RedisServer()
        let c = try server.connect()
        let desired = Self.table(count)
        return (
            server, c, ProducerStateTable(connection: c, keysPerTransaction: keysPerTransaction), desired,
            diff(desired: desired, actual: StoreSnapshot()).changes
        )
    }

    /// The daemon's pipelining: batches sent before the first is answered, replies collected in order.
    @Test func batchesSentBeforeRepliesAreCollectedInOrder() throws {
        let (server, c, writer, desired, changes) = try Self.writing(3000, keysPerTransaction: 100)
        defer { withExtendedLifetime(server) {} }  // the server stops when its object goes
        var sent: [ProducerStateTable.SentBatch] = []
        for b in 0..<3 {
            let batch = Batch(id: UInt64(b + 1), changes: Array(changes[(b * 1000)..<((b + 1) * 1000)]))
            sent.append(try writer.send(batch))
        }
        // Per batch, 10 transactions: MULTI, 100 HSETs, one SADD, one PUBLISH, EXEC.
        #expect(c.repliesAwaited == 3 * 10 * (1 + 100 + 1 + 1 + 1))
        // Another command on the connection now would read a batch's reply as its own.
        #expect(throws: RedisError.self) {
            try writer.write(Batch(id: 9, changes: [.set(Self.k, Self.e("00:01:02:03:04:05"))]))
        }
        for id in UInt64(1)...3 {
            let r = try writer.collect(&sent)
            #expect(r.id == id && r.refusal == nil)
        }
        #expect(sent.isEmpty && c.repliesAwaited == 0)
        #expect(try StoreReader.snapshot(c).snapshot == StoreSnapshot(valid: desired))
    }

    /// Issue 11 defect 4: an error reply (WRONGTYPE, OOM) refuses its batch, not the connection:
    /// every reply is still read, nothing stays awaited, and the same connection writes the
    /// batches once the fault is lifted.
    @Test(arguments: ["WRONGTYPE", "OOM"]) func refusedBatchLeavesTheConnectionUsable(fault: String) throws {
        let (server, c, writer, desired, changes) = try Self.writing(1000, keysPerTransaction: 100)
        let admin = try server.connect()
        try writer.write(Batch(id: 1, changes: [changes[0]]))
        try ConsumerStateTable(connection: try server.connect()).drain()  // nothing pending: SET would lose it
        let (impose, lift): ([String], [String]) =
            fault == "OOM"
            ? (["CONFIG", "SET", "maxmemory", "1"], ["CONFIG", "SET", "maxmemory", "0"])
            : (["SET", "NEIGH_TABLE_KEY_SET", "oops"], ["DEL", "NEIGH_TABLE_KEY_SET"])
        if fault == "OOM" { _ = try admin.command(["CONFIG", "SET", "maxmemory-policy", "noeviction"]) }
        _ = try admin.command(impose)
        var sent = [try writer.send(Batch(id: 2, changes: Array(changes[1..<500])))]
        sent.append(try writer.send(Batch(id: 3, changes: Array(changes[500...]))))
        for id in UInt64(2)...3 {
            let r = try writer.collect(&sent)
            #expect(r.id == id && r.refusal?.hasPrefix(fault) == true, "\(r)")
        }
        #expect(!c.broken && c.repliesAwaited == 0 && sent.isEmpty)
        #expect { try writer.write(Batch(id: 4, changes: [changes[1]])) } throws: {
            ($0 as? RedisError)?.kind == .refused
        }
        _ = try admin.command(lift)
        try writer.write(Batch(id: 5, changes: Array(changes[1...])))
        #expect(try StoreReader.snapshot(c).snapshot == StoreSnapshot(valid: desired))
    }

    @Test func killedMidBatchLosesNoAcknowledgedWriteAndTheRestIsRetried() throws {
        let server = try RedisServer(persistent: true)
        let first = Self.table(5_000)
        var c = try server.connect()
        try ProducerStateTable(connection: c).write(
            Batch(id: 1, changes: diff(desired: first, actual: StoreSnapshot()).changes)
        )
        // A big second batch; the server dies while it is on the wire.
        let desired = first.merging(Self.table(100_000, salt: 0xFF).filter { first[$0.key] == nil }) { a, _ in a }
        let second = diff(desired: desired, actual: StoreSnapshot(valid: first)).changes
        final class Box: @unchecked Sendable {
            var outcome: Result<Void, RedisError>?
            let connection: RedisConnection
            init(_ c: RedisConnection) { connection = c }
        }
        let box = Box(c)
        let done = DispatchSemaphore(value: 0)
        Thread {
            do {
                box.outcome = .success(
                    try ProducerStateTable(connection: box.connection).write(Batch(id: 2, changes: second))
                )
            } catch let e as RedisError { box.outcome = .failure(e) } catch {
                box.outcome = .failure(RedisError(.io, "\(error)"))
            }
            done.signal()
        }.start()
        usleep(5_000)
        server.kill()
        done.wait()
        let outcome = box.outcome
        try server.start()
        c = try server.connect()
        let reread = try StoreReader.snapshot(c).snapshot
        for (k, v) in first { #expect(reread.entries[k] == .valid(v)) }  // acknowledged before the kill
        if case .failure(let e) = outcome { #expect(e.kind == .io) }
        // The daemon's recovery: read the store again, diff, write what is missing.
        let repair = diff(desired: desired, actual: reread)
        try ProducerStateTable(connection: c).write(Batch(id: 3, changes: repair.changes))
        try ConsumerStateTable(connection: try server.connect()).drain()
        #expect(try StoreReader.snapshot(c).snapshot == StoreSnapshot(valid: desired))
    }
}

@Suite struct StoreReadingTests {
    @Test func malformedEntriesAreReportedForRepair() throws {
        let server = try RedisServer()
        let c = try server.connect()
        _ = try c.command(["HSET", "NEIGH_TABLE:Ethernet0:10.0.0.1", "neigh", "00:01:02:03:04:05", "family", "IPv4"])
        _ = try c.command(["HSET", "NEIGH_TABLE:Ethernet0:10.0.0.2", "neigh", "nonsense", "family", "IPv4"])
        _ = try c.command(["SADD", "NEIGH_TABLE:Ethernet0:10.0.0.3", "x"])
        _ = try c.command(["HSET", "NEIGH_TABLE:junk", "neigh", "00:01:02:03:04:05", "family", "IPv4"])
        _ = try c.command(["HSET", "_NEIGH_TABLE:Ethernet0:10.0.0.4", "neigh", "00:01:02:03:04:07", "family", "IPv4"])
        _ = try c.command(["SADD", "NEIGH_TABLE_KEY_SET", "Ethernet0:10.0.0.4", "Ethernet0:10.0.0.1"])
        _ = try c.command(["SADD", "NEIGH_TABLE_DEL_SET", "Ethernet0:10.0.0.1"])
        let (s, issues) = try StoreReader.snapshot(c)
        #expect(s.entries[NeighborKey("Ethernet0:10.0.0.1")!] == nil)  // pending delete
        #expect(s.entries[NeighborKey("Ethernet0:10.0.0.2")!] == .malformed)
        #expect(s.entries[NeighborKey("Ethernet0:10.0.0.3")!] == .malformed)
        #expect(
            s.entries[NeighborKey("Ethernet0:10.0.0.4")!]
                == .valid(NeighborEntry(mac: MACAddress("00:01:02:03:04:07")!, family: .ipv4))
        )
        #expect(s.malformedKeys == ["junk"])
        #expect(issues.count == 3)
    }

    /// The daemon's reader (raw replies checked in place) and the general `NeighTableContent`
    /// overlay agree entry by entry and issue by issue, over several SCAN pages of good entries,
    /// every kind of damage, and pending sets, deletes and partial staging hashes.
    @Test func fastReaderAgreesWithTheGeneralOverlay() throws {
        let server = try RedisServer()
        let c = try server.connect()
        for i in 0..<5000 {
            let key =
                i % 2 == 0 ? "Ethernet\(i % 8):10.1.\(i >> 8).\(i & 255)" : "Vlan1000:fc00::\(String(i, radix: 16))"
            _ = try c.command([
                "HSET", "NEIGH_TABLE:" + key, "neigh", String(format: "02:00:00:00:%02x:%02x", i >> 8, i & 255),
                "family", i % 2 == 0 ? "IPv4" : "IPv6",
            ])
        }
        let damaged: [[String]] = [
            ["HSET", "NEIGH_TABLE:Ethernet0:10.9.0.1", "neigh", "nonsense", "family", "IPv4"],
            ["HSET", "NEIGH_TABLE:Ethernet0:10.9.0.2", "family", "IPv4"],
            ["HSET", "NEIGH_TABLE:Ethernet0:10.9.0.3", "neigh", "00:01:02:03:04:05"],
            ["HSET", "NEIGH_TABLE:Ethernet0:10.9.0.4", "neigh", "00:01:02:03:04:05", "family", "IPv6"],
            ["HSET", "NEIGH_TABLE:Ethernet0:10.9.0.5", "neigh", "00:01:02:03:04:05", "family", "IPv5"],
            ["HSET", "NEIGH_TABLE:Ethernet0:10.9.0.6", "neigh", "00:01:02:03:04:05", "family", "IPv4", "extra", "x"],
            ["SADD", "NEIGH_TABLE:Ethernet0:10.9.0.7", "x"],
            ["HSET", "NEIGH_TABLE:junk", "neigh", "00:01:02:03:04:05", "family", "IPv4"],
            ["HSET", "NEIGH_TABLE:Ethernet0:fc00:0::1", "neigh", "00:01:02:03:04:05", "family", "IPv6"],
            ["HSET", "NEIGH_TABLE:Ethernet0:10.9.0.8\u{0}x", "neigh", "00:01:02:03:04:05", "family", "IPv4"],
            ["HSET", "NEIGH_TABLE:Ethernet0:10.9.0.09", "neigh", "00:01:02:03:04:05", "family", "IPv4"],
            // overwritten below by a pending set
            ["HSET", "NEIGH_TABLE:Ethernet2:10.1.0.2", "neigh", "00:00:00:00:00:99"],
            ["HSET", "_NEIGH_TABLE:Ethernet2:10.1.0.2", "neigh", "00:00:00:00:00:aa", "family", "IPv4"],
            // partial: family from the table
            ["HSET", "_NEIGH_TABLE:Ethernet4:10.1.0.4", "neigh", "00:00:00:00:00:bb"],
            ["HSET", "_NEIGH_TABLE:Ethernet0:10.77.0.1", "neigh", "00:00:00:00:00:cc", "family", "IPv4"],
            ["SADD", "_NEIGH_TABLE:Ethernet2:10.1.0.10", "x"],  // a staging value that is not a hash
            // 10.1.0.8: pending with no staging hash and no delete: the consumed entry stands
            [
                "SADD", "NEIGH_TABLE_KEY_SET", "Ethernet2:10.1.0.2", "Ethernet4:10.1.0.4", "Ethernet0:10.77.0.1",
                "Ethernet6:10.1.0.6", "junk",
                "Ethernet0:10.1.0.8", "Ethernet2:10.1.0.10",
            ],
            ["SADD", "NEIGH_TABLE_DEL_SET", "Ethernet6:10.1.0.6", "junk"],
        ]
        for d in damaged { _ = try c.command(d) }
        let fast = try StoreReader.snapshot(c)
        let general = try StoreReader.content(c).snapshot(source: "APPL_DB")
        #expect(fast.snapshot == general.snapshot)
        #expect(
            Set(fast.issues.map { "\($0.item) \($0.reason)" }) == Set(general.issues.map { "\($0.item) \($0.reason)" })
        )
        #expect(fast.issues.count == general.issues.count)
        #expect(fast.snapshot.entries.count > 5000 && fast.issues.count >= 9)
        #expect(
            fast.snapshot.entries[NeighborKey("Ethernet4:10.1.0.4")!]
                == .valid(NeighborEntry(mac: MACAddress("00:00:00:00:00:bb")!, family: .ipv4))
        )
        #expect(
            fast.snapshot.entries[NeighborKey("Ethernet2:10.1.0.2")!]
                == .valid(NeighborEntry(mac: MACAddress("00:00:00:00:00:aa")!, family: .ipv4))
        )
        #expect(
            fast.snapshot.entries[NeighborKey("Ethernet6:10.1.0.6")!] == nil
                && !fast.snapshot.malformedKeys.contains("junk")
        )
        #expect(
            fast.snapshot.entries[NeighborKey("Ethernet0:10.1.0.8")!]
                == .valid(NeighborEntry(mac: MACAddress("02:00:00:00:00:08")!, family: .ipv4))
        )
        #expect(fast.snapshot.entries[NeighborKey("Ethernet2:10.1.0.10")!] == .malformed)
    }

    @Test func configChangeReachesThePolicyThroughANotification() throws {
        let server = try RedisServer()
        let config = try server.connect(4)
        let watcher = try PolicyWatcher(subscriber: try server.connect(4), database: 4)
        #expect(watcher.notificationsEnabled)
        #expect(try ConfigReader.policy(config) == Policy())
        _ = try config.command(["HSET", "INTERFACE|Ethernet0", "ipv6_use_link_local_only", "enable"])
        var p = pollfd(fd: watcher.subscriber.fileDescriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 2000) == 1)
        #expect(try watcher.changed() == .policy)
        #expect(try ConfigReader.policy(config).linkLocalInterfaces == [InterfaceName("Ethernet0")!])
        _ = try config.command(["HSET", "PEER_SWITCH|peer", "address_ipv4", "10.1.0.1"])
        #expect(poll(&p, 1, 2000) == 1)
        #expect(try watcher.changed() == .policy)
        #expect(try ConfigReader.policy(config).dualToR)
    }

    @Test func warmRestartKeys() throws {
        let server = try RedisServer()
        let state = try server.connect(6)
        let config = try server.connect(4)
        let w = WarmRestartStore(state: state, config: config)
        #expect(try w.begin() == (false, 0))
        #expect(try state.command(["HGET", "WARM_RESTART_TABLE|neighsyncd", "restore_count"]).string == "0")
        _ = try state.command(["HSET", "WARM_RESTART_ENABLE_TABLE|swss", "enable", "true"])
        #expect(try w.begin() == (true, 1))
        #expect(try w.begin() == (true, 2))
        try w.setState(.restored)
        #expect(try state.command(["HGET", "WARM_RESTART_TABLE|neighsyncd", "state"]).string == "restored")
        #expect(try w.reconcileTimer() == (5, false))
        for (text, want) in [
            ("15", (15, true)), ("0x0f", (15, true)), ("017", (15, true)), ("0", (5, false)), ("10000", (5, false)),
            ("abc", (5, false)),
        ] {
            _ = try config.command(["HSET", "WARM_RESTART|swss", "neighsyncd_timer", text])
            #expect(try w.reconcileTimer() == want, "\(text)")
        }
        #expect(try !w.restoreFlagSet())
        _ = try state.command(["HSET", "NEIGH_RESTORE_TABLE|Flags", "restored", "true"])
        #expect(try w.restoreFlagSet())
    }

    @Test func clearDropsPendingOperations() throws {
        let server = try RedisServer()
        let c = try server.connect()
        let writer = ProducerStateTable(connection: c)
        try writer.write(
            Batch(
                id: 1,
                changes: [
                    .set(NeighborKey("Ethernet0:10.0.0.1")!, NeighborEntry(mac: .zero, family: .ipv4)),
                    .del(NeighborKey("Ethernet0:10.0.0.2")!),
                ]
            )
        )
        _ = try c.command(["HSET", "NEIGH_TABLE:Ethernet0:10.0.0.9", "neigh", "00:00:00:00:00:09", "family", "IPv4"])
        try writer.clearPending()
        #expect(try c.command(["KEYS", "*"]).array?.compactMap(\.string) == ["NEIGH_TABLE:Ethernet0:10.0.0.9"])
    }

    @Test func databaseConfig() throws {
        let json = """
            {"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 6379,
                                     "unix_socket_path": "/var/run/redis/redis.sock"},
                           "redis2": {"hostname": "127.0.0.1", "port": 6380}},
             "DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"},
                           "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis2"},
                           "STATE_DB": {"id": 6, "separator": "|", "instance": "redis"}},
             "VERSION": "1.0"}
            """
        let cfg = try DatabaseConfig(json: Data(json.utf8), source: "test")
        #expect(cfg["APPL_DB"]?.endpoint == .unix(path: "/var/run/redis/redis.sock"))
        #expect(cfg["CONFIG_DB"]?.endpoint == .tcp(host: "127.0.0.1", port: 6380))
        #expect(cfg["STATE_DB"]?.id == 6)
        #expect(throws: RedisError.self) { try DatabaseConfig(json: Data("{}".utf8), source: "x") }
        #expect(try DatabaseConfig.load(path: "/nonexistent/database_config.json").fromFile == false)
    }
}

@Suite struct RawKeyDeleteTests {
    /// EVPN host-route removal: a ROUTE_TABLE delete by key text, with DEL effects.
    @Test func routeTableDeleteByKeyText() throws {
        let server = try RedisServer()
        let c = try server.connect()
        let routes = ProducerStateTable(
            connection: c,
            names: ProducerStateTableNames(table: "ROUTE_TABLE", databaseID: 0)
        )
        try routes.delete(keys: ["Vrf_red:10.0.0.1"])
        #expect(try c.command(["SISMEMBER", "ROUTE_TABLE_KEY_SET", "Vrf_red:10.0.0.1"]).integer == 1)
        #expect(try c.command(["SISMEMBER", "ROUTE_TABLE_DEL_SET", "Vrf_red:10.0.0.1"]).integer == 1)
        #expect(try c.command(["EXISTS", "NEIGH_TABLE_KEY_SET"]).integer == 0)
    }
}
