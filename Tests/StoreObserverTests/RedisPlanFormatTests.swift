import Foundation
import Glibc
import Model
import StoreObserver
import Testing

/// `reconcile --format redis` prints one call per change of a script with the ProducerStateTable
/// effects (`ProducerStateTableScript`, upstream's per-key pattern): piped into `redis-cli`, they
/// leave the store as `ProducerStateTable.write`'s transactions do. Only the number of
/// notifications differs: one per new key from the script, one per 128 keys from the writer.
@Suite struct RedisPlanFormatTests {
    static func entry(_ mac: String) -> NeighborEntry { NeighborEntry(mac: MACAddress(mac)!, family: .ipv4) }

    /// `redis-cli -s <socket> < input`: its exit status and stdout (one reply per line, no tty).
    static func redisCLI(_ server: RedisServer, input: String) throws -> (status: Int32, output: String) {
        let plan = server.dir.appendingPathComponent("plan.redis").path
        let replies = server.dir.appendingPathComponent("replies").path
        try Data(input.utf8).write(to: URL(fileURLWithPath: plan))
        let pid = try RedisServer.spawn(
            ["sh", "-c", #"redis-cli -s "$1" < "$2" > "$3" 2>&1"#, "sh", server.socket, plan, replies])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (status, try String(contentsOfFile: replies, encoding: .utf8))
    }

    @Test func planLinesThroughRedisCLIHaveTheWritersEffects() throws {
        let server = try RedisServer()
        let c = try server.connect()
        let writer = ProducerStateTable(connection: c)
        let kept = NeighborKey("Ethernet0:10.0.0.1")!
        let gone = NeighborKey("Ethernet4:10.0.0.2")!
        let added = NeighborKey("Ethernet8:2000::2")!
        // Quotes, a backslash, a space and a newline: the key must reach Redis byte for byte.
        let awkward = "Eth \"0\\\n'x:10.0.0.9"
        let changes: [Change] = [
            .set(kept, Self.entry("00:00:00:00:00:02")), .set(added, Self.entry("00:00:00:00:00:03")),
            .del(gone), .delMalformed(awkward),
        ]
        /// The same starting store (two keys, consumed), `apply`, then the raw table and the
        /// notifications published.
        func outcome(_ apply: () throws -> Void) throws -> (NeighTableContent, published: Int) {
            _ = try c.command(["FLUSHALL"])
            try writer.write(
                Batch(
                    id: 1,
                    changes: [
                        .set(kept, Self.entry("00:00:00:00:00:01")),
                        .set(gone, Self.entry("00:00:00:00:00:01")),
                    ]
                )
            )
            _ = try ConsumerStateTable(connection: c).drain()
            let published = try ProducerStateTableTests.publishes(server, apply)
            return (try StoreReader.content(c), published)
        }
        let (byWriter, writerPublished) = try outcome { try writer.write(Batch(id: 2, changes: changes)) }
        var cli: (status: Int32, output: String) = (-1, "")
        let (byCLI, cliPublished) = try outcome {
            cli = try Self.redisCLI(server, input: PlanFormat.redis.render(changes, unchanged: 0))
        }

        #expect(cli.status == 0, "redis-cli: \(cli.output)")
        // One integer reply per line, none an error: every line ran.
        let replies = cli.output.split(separator: "\n")
        #expect(replies.count == changes.count && replies.allSatisfy { Int($0) != nil }, "\(cli.output)")
        #expect(writerPublished == 1)
        #expect(cliPublished == 4)
        #expect(byCLI.keySet == byWriter.keySet && byCLI.keySet.contains(awkward))
        #expect(byCLI.delSet == byWriter.delSet && byCLI.delSet == [gone.description, awkward])
        #expect(byCLI.staging == byWriter.staging && byCLI.staging.count == 2)
        #expect(byCLI.table == byWriter.table)
    }
}
