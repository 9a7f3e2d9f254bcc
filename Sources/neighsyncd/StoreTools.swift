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
        try DatabaseConfig.load(path: dbConfig).config.connect(db, password: Self.environmentPassword)
    }

    /// The password every command uses when no file names one: `$REDIS_PASSWORD`, else none.
    static var environmentPassword: String? { ProcessInfo.processInfo.environment["REDIS_PASSWORD"] }
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
/// On a switch it would take neighbor updates away from orchagent, so it is left out of the top-level
/// help and has no default database config: it only runs against one named on the command line.
struct Consume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pop NEIGH_TABLE with orchagent's semantics (demos and tests only; never on a switch).",
        discussion: """
            Stands in for orchagent where there is none. On a switch it would steal neighbor updates \
            from orchagent, so it does not use the default database config: --db-config must name the \
            (private) database to pop.
            """,
        shouldDisplay: false
    )

    @Option(
        name: .customLong("db-config"),
        help: ArgumentHelp("database_config.json of the private Redis to pop (required).", valueName: "file")
    )
    var dbConfig: String?

    @Flag(help: "Pop what is pending once and exit (default: keep popping on each notification).")
    var once = false

    func validate() throws {
        guard dbConfig != nil else {
            throw ValidationError(
                "consume needs an explicit --db-config: on a switch it would steal neighbor updates from orchagent"
            )
        }
    }

    func run() throws {
        guard let dbConfig else { throw ExitCode.validationFailure }
        // A missing file would mean the default instance, 127.0.0.1:6379: a switch's own APPL_DB.
        let loaded = try DatabaseConfig.load(path: dbConfig)
        guard loaded.fromFile else {
            printError("neighsyncd consume: \(dbConfig) does not exist; consume never falls back to 127.0.0.1:6379")
            throw ExitCode(2)
        }
        let password = RedisOptions.environmentPassword
        let consumer = ConsumerStateTable(connection: try loaded.config.connect("APPL_DB", password: password))
        if once {
            print(try consumer.drain())
            return
        }
        let sub = try loaded.config.connect("APPL_DB", password: password)
        _ = try sub.command(["SUBSCRIBE", ProducerStateTableNames.neighTable.channel])
        while true {
            try consumer.drain()
            var p = pollfd(fd: sub.fileDescriptor, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 1000) > 0 { _ = try sub.readAvailable() }
        }
    }
}
