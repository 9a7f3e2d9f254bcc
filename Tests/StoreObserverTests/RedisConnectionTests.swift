import StoreObserver
import Testing

/// A connection's own bookkeeping against a real redis-server.
@Suite struct RedisConnectionTests {
    /// Issue 11 defect 3: a connection killed while a reply was awaited (CLIENT KILL, Redis
    /// restarted) must say it is broken, so its owner replaces it; it said "SCAN while 1 replies
    /// are still awaited" forever, and the policy was never read again.
    @Test(arguments: ["normal", "pubsub"]) func aKilledConnectionIsBrokenNotStuck(type: String) throws {
        let server = try RedisServer()
        let c = try server.connect(4)
        if type == "pubsub" { _ = try c.command(["SUBSCRIBE", "x"]) }
        _ = try server.connect().command(["CLIENT", "KILL", "TYPE", type])  // not the caller itself
        #expect { _ = try c.command(["PING"]) } throws: { ($0 as? RedisError)?.kind == .io }
        #expect(c.broken)
        #expect(c.repliesAwaited == 0)
        #expect { _ = try c.command(["SCAN", "0"]) } throws: { ($0 as? RedisError)?.kind == .io }
    }
}
