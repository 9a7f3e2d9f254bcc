import Glibc
import Model
import StoreObserver
import Testing

@testable import Shell

/// Anti-entropy's keyspace watcher against a real redis-server: what someone else does to
/// `NEIGH_TABLE:*` reaches the core as `storeKeysTouched`; a Redis without keyspace events is left
/// as it is.
@Suite(.serialized) struct StoreKeyWatcherTests {
    final class Lines: @unchecked Sendable { var all: [(LogLevel, String)] = [] }

    static func watcher(_ server: RedisServer, _ lines: Lines) -> (StoreKeyWatcher, ShellContext) {
        let context = ShellContext(clock: PosixClock.now, random: { _ in 0 }, log: { lines.all.append(($0, $1)) })
        let socket = server.socket
        let watcher = StoreKeyWatcher(context: context) { () throws(RedisError) -> any RedisTransport in
            try RedisConnection(endpoint: .unix(path: socket), database: 0)
        }
        return (watcher, context)
    }

    /// Reads notifications until `count` were taken (a bound on the wait, not a timed assertion).
    static func read(_ watcher: StoreKeyWatcher, _ context: ShellContext, until count: Int) {
        for _ in 0..<300 where context.metrics.keyspaceMessages < count {
            guard let fd = watcher.fileDescriptor else { return }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 100) > 0 { watcher.readable() }
        }
    }

    static func reported(_ context: ShellContext) -> [Event] {
        var events: [Event] = []
        while let e = context.dequeue() { events.append(e) }
        return events
    }

    @Test func aForeignWriteReachesTheCore() throws {
        let server = try RedisServer(options: ["--notify-keyspace-events", "AKE"])
        let lines = Lines()
        let (watcher, context) = Self.watcher(server, lines)
        watcher.start()
        #expect(watcher.fileDescriptor != nil, "not subscribed: \(lines.all)")
        let other = try server.connect()
        _ = try other.command([
            "HSET", "NEIGH_TABLE:Ethernet0:10.0.0.1", "neigh", "00:00:00:00:00:99", "family", "IPv4",
        ])
        _ = try other.command(["HSET", "NEIGH_TABLE:Vlan1000:fe80::1", "neigh", "00:00:00:00:00:01"])
        _ = try other.command(["DEL", "NEIGH_TABLE:Vlan1000:fe80::1"])
        _ = try other.command(["HSET", "ROUTE_TABLE:10.0.0.0/8", "nexthop", "10.0.0.1"])  // not watched
        _ = try other.command(["HSET", "_NEIGH_TABLE:Ethernet0:10.0.0.2", "neigh", "x"])  // not watched
        Self.read(watcher, context, until: 3)
        #expect(context.metrics.keyspaceMessages == 3)
        #expect(Self.reported(context).isEmpty, "reported before the report's deadline")
        #expect(context.deadlines.isArmed(.keyWatchReport))
        watcher.report()
        #expect(
            Self.reported(context) == [
                .storeKeysTouched(["Ethernet0:10.0.0.1", "Vlan1000:fe80::1"], overflow: false)
            ]
        )
        // Nothing more gathered: the next report is silent.
        watcher.report()
        #expect(Self.reported(context).isEmpty)
    }

    /// More keys than one report holds: a full report at once, the rest at the deadline.
    @Test func manyKeysGoInBoundedReports() throws {
        let server = try RedisServer(options: ["--notify-keyspace-events", "Khg"])
        let (watcher, context) = Self.watcher(server, Lines())
        watcher.start()
        let n = StoreKeyWatcher.maxKeys + 1
        let other = try server.connect()
        let script = "for i = 1, \(n) do redis.call('HSET', 'NEIGH_TABLE:Ethernet0:k' .. i, 'neigh', 'x') end"
        _ = try other.command(["EVAL", script, "0"])
        Self.read(watcher, context, until: n)
        #expect(context.metrics.keyspaceMessages == n)
        let first = Self.reported(context)
        guard case .storeKeysTouched(let keys, let overflow)? = first.first, first.count == 1 else {
            return #expect(Bool(false), "\(first.count) reports")
        }
        #expect((StoreKeyWatcher.maxKeys...n).contains(keys.count) && !overflow)
        watcher.report()
        var rest: Set<String> = []
        if case .storeKeysTouched(let more, false)? = Self.reported(context).first { rest = more }
        #expect(keys.union(rest).count == n && keys.isDisjoint(with: rest))
    }

    /// The subscription lost: changes meanwhile are unknown, so the next subscription reports an overflow.
    @Test func aLostSubscriptionIsRestoredWithAnOverflow() throws {
        let server = try RedisServer(options: ["--notify-keyspace-events", "AKE"])
        let lines = Lines()
        let (watcher, context) = Self.watcher(server, lines)
        watcher.start()
        _ = try server.connect().command(["CLIENT", "KILL", "TYPE", "pubsub"])
        for _ in 0..<300 where watcher.fileDescriptor != nil {
            guard let fd = watcher.fileDescriptor else { break }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 100) > 0 { watcher.readable() }
        }
        #expect(watcher.fileDescriptor == nil)
        #expect(context.deadlines.isArmed(.keyWatchRetry))
        #expect(lines.all.contains { $0.1.contains("keyspace subscription lost") })
        watcher.start()
        #expect(watcher.fileDescriptor != nil)
        watcher.report()
        #expect(Self.reported(context) == [.storeKeysTouched([], overflow: true)])
    }

    /// A Redis that keeps killing the subscriber right after it subscribes: each loss waits longer
    /// (each reconnect reports an overflow, a full read); a subscription that lasted starts over.
    @Test func aSubscriptionLostAgainAndAgainBacksOff() throws {
        final class Clock: @unchecked Sendable { var now: UInt64 = 1_000_000_000_000 }
        let server = try RedisServer(options: ["--notify-keyspace-events", "AKE"])
        let clock = Clock()
        let context = ShellContext(clock: { clock.now }, random: { _ in 0 }, log: { _, _ in })
        let socket = server.socket
        let watcher = StoreKeyWatcher(context: context) { () throws(RedisError) -> any RedisTransport in
            try RedisConnection(endpoint: .unix(path: socket), database: 0)
        }
        func killAndLose() throws {
            _ = try server.connect().command(["CLIENT", "KILL", "TYPE", "pubsub"])
            for _ in 0..<300 where watcher.fileDescriptor != nil {
                guard let fd = watcher.fileDescriptor else { break }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 100) > 0 { watcher.readable() }
            }
            #expect(watcher.fileDescriptor == nil, "the subscription was not lost")
        }
        let ms: UInt64 = 1_000_000
        watcher.start()
        for wait: UInt64 in [100, 200, 400] {
            try killAndLose()
            #expect(context.deadlines.popDue(now: clock.now + (wait - 1) * ms) == nil, "retried within \(wait) ms")
            #expect(context.deadlines.popDue(now: clock.now + wait * ms) == .keyWatchRetry)
            clock.now += wait * ms
            watcher.start()
            #expect(watcher.fileDescriptor != nil)
        }
        // A subscription that lasted: the next loss is retried after the first wait again.
        clock.now += UInt64(StoreKeyWatcher.lastingSubscriptionMilliseconds) * ms
        while context.deadlines.popDue(now: clock.now) != nil {}  // the overflow's report went
        try killAndLose()
        #expect(context.deadlines.popDue(now: clock.now + 100 * ms) == .keyWatchRetry)
    }

    /// Redis without keyspace events: said once at INFO, never `CONFIG SET`.
    @Test func notificationsOffAreLeftOff() throws {
        let server = try RedisServer()
        let lines = Lines()
        let (watcher, context) = Self.watcher(server, lines)
        watcher.start()
        watcher.start()
        #expect(watcher.fileDescriptor == nil)
        #expect(!context.deadlines.isArmed(.keyWatchRetry))
        let said = lines.all.filter { $0.1.contains("keyspace notifications are off") }
        #expect(said.count == 1 && said.first?.0 == .info, "\(lines.all)")
        let flags = try server.connect().command(["CONFIG", "GET", "notify-keyspace-events"])
        #expect(flags.array?.last?.string == "")
    }
}
