import ArgumentParser
import Foundation
import Glibc
import Model
import StoreObserver

/// Options shared by the commands that talk to Redis.
struct RedisOptions: ParsableArguments {
    @Option(name: .customLong("db-config"), help: "SONiC database_config.json.")
    var dbConfig = DatabaseConfig.defaultPath

    func connect(_ db: String) throws -> RedisConnection {
        let password = ProcessInfo.processInfo.environment["REDIS_PASSWORD"]
        return try DatabaseConfig.load(path: dbConfig).config.connect(db, password: password)
    }
}

/// `neighsyncd store-dump`: APPL_DB's NEIGH_TABLE keys as `sonic-db-dump` prints them, for `reconcile --store`.
struct StoreDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-dump",
        abstract: "Print APPL_DB NEIGH_TABLE (consumed and pending keys) in sonic-db-dump form."
    )

    @OptionGroup var redis: RedisOptions

    func run() throws {
        let content = try StoreReader.content(try redis.connect("APPL_DB"))
        FileHandle.standardOutput.write(RedisDump.render(content.redisValues()))
        print()
    }
}

/// `neighsyncd consume`: pops NEIGH_TABLE as orchagent does, for demos and tests on a box without orchagent.
struct Consume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pop NEIGH_TABLE with orchagent's semantics (for demos and tests without orchagent)."
    )

    @OptionGroup var redis: RedisOptions

    @Flag(help: "Pop what is pending once and exit (default: keep popping on each notification).")
    var once = false

    func run() throws {
        let consumer = ConsumerStateTable(connection: try redis.connect("APPL_DB"))
        if once {
            print(try consumer.drain())
            return
        }
        let sub = try redis.connect("APPL_DB")
        _ = try sub.command(["SUBSCRIBE", ProducerStateTableNames.neighTable.channel])
        while true {
            try consumer.drain()
            var p = pollfd(fd: sub.fileDescriptor, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 1000) > 0 { _ = try sub.readAvailable() }
        }
    }
}
