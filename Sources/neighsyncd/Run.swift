import ArgumentParser
import CNetlink
import Files
import Foundation
import Journal
import Logging
import Model
import Reconciler
import Shell
import StoreObserver

extension Journal.Durability: ExpressibleByArgument {}

/// `neighsyncd run`: the daemon.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep APPL_DB NEIGH_TABLE equal to the kernel's neighbor table (the daemon).",
        discussion: """
            `neighsyncd` with no subcommand is this, with every default: SONiC's paths, as swss's \
            supervisord starts it. Serves the network namespace it is started in. \
            Reaches Redis as database_config.json says, preferring an instance's unix socket. \
            The Redis password is read from --redis-password-file or $REDIS_PASSWORD, never from \
            the command line. SIGTERM/SIGINT: the batches in flight are finished and journaled, exit 0. \
            A start-up failure exits non-zero with one line saying why.
            """
    )

    @Option(
        name: .customLong("db-config"),
        help: "SONiC database_config.json; if missing, APPL_DB 0 / CONFIG_DB 4 / STATE_DB 6 on 127.0.0.1:6379."
    )
    var dbConfig = DefaultPaths.databaseConfig

    @Option(help: "The journal file (SQLite, mode 0600). A bad one is set aside as FILE.bad-TIME.")
    var journal = DefaultPaths.journal

    @Option(
        name: .customLong("journal-durability"),
        help: "normal: survives a daemon crash; full: fsync per batch, survives power loss."
    )
    var journalDurability: Journal.Durability = .normal

    @Flag(
        name: .customLong("no-journal"),
        help: "Run without a journal (every start is a cold reconcile against the store)."
    )
    var noJournal = false

    @Option(help: "Netlink receive buffer to request, in bytes (SO_RCVBUFFORCE, else SO_RCVBUF).")
    var rcvbuf = 16 << 20

    @Option(name: .customLong("batch-size"), help: "Most changes per APPL_DB batch.")
    var batchSize = 1000

    @Option(name: .customLong("batch-delay-ms"), help: "Longest a change waits for its batch to fill, in ms.")
    var batchDelayMs = 10

    @Option(
        name: .customLong("batches-in-flight"),
        help: "Most APPL_DB batches sent and not yet answered (1: wait for each reply)."
    )
    var batchesInFlight = 2

    @Option(name: .customLong("redump-cooldown-ms"), help: "Least time between two re-dumps after overruns, in ms.")
    var redumpCooldownMs = 1000

    @Option(
        name: .customLong("restore-timeout"),
        help: "Warm restart: seconds to wait for NEIGH_RESTORE_TABLE|Flags before exiting 1."
    )
    var restoreTimeout = 180

    @Option(
        name: .customLong("log-level"),
        help: """
            EMERG, ALERT, CRIT, ERROR, WARN, NOTICE, INFO or DEBUG (any case; warning also taken). \
            Kept at start whatever CONFIG_DB LOGGER|neighsyncd LOGLEVEL says, until that changes. \
            Default: the row's value, NOTICE if none.
            """
    )
    var logLevel: String?

    @Option(
        name: .customLong("log-output"),
        help: """
            syslog, stderr or stdout. Default: the row's value (until read: syslog when stderr is not \
            a terminal, else stderr). Kept at start whatever CONFIG_DB LOGGER|neighsyncd LOGOUTPUT \
            says, until that changes.
            """
    )
    var logOutput: String?

    @Flag(name: .customLong("no-syslog"), help: .hidden)  // before --log-output: the same as `--log-output stderr`
    var noSyslog = false

    @Option(help: "Prometheus textfile to write every 5 s and at exit (`neighsyncd status` reads it).")
    var metrics = DefaultPaths.metrics

    @Flag(name: .customLong("no-metrics"), help: "Write no metrics textfile.")
    var noMetrics = false

    @Option(
        name: .customLong("redis-password-file"),
        help: "File holding the Redis password (else $REDIS_PASSWORD; else none)."
    )
    var redisPasswordFile: String?

    @Option(
        name: .customLong("policy-poll-seconds"),
        help: "CONFIG_DB re-read period when keyspace notifications are unavailable."
    )
    var policyPollSeconds = 10

    @Option(
        name: .customLong("verify-interval"),
        help: """
            Seconds between verifying reads of APPL_DB NEIGH_TABLE in steady state: drift from what \
            was acknowledged is logged and repaired. 0 turns them off.
            """
    )
    var verifyInterval = 60

    func validate() throws {
        guard batchSize > 0, batchesInFlight > 0 else {
            throw ValidationError("--batch-size and --batches-in-flight must be positive")
        }
        guard batchDelayMs >= 0, redumpCooldownMs >= 0 else {
            throw ValidationError("--batch-delay-ms and --redump-cooldown-ms must not be negative")
        }
        guard (0...86_400).contains(verifyInterval) else {
            throw ValidationError("--verify-interval: 0 (off) to 86400 seconds")
        }
        guard restoreTimeout > 0, policyPollSeconds > 0 else {
            throw ValidationError("--restore-timeout and --policy-poll-seconds must be positive")
        }
        guard logLevel.map({ LogSeverity(name: $0) != nil }) ?? true else {
            throw ValidationError("--log-level: one of \(LogSeverity.spellings) (any case)")
        }
        guard logOutput.map({ LogOutput(name: $0) != nil }) ?? true else {
            throw ValidationError("--log-output: one of syslog, stderr, stdout (any case)")
        }
    }

    /// The log settings until CONFIG_DB's are read. Under a supervisor (stderr not a terminal:
    /// supervisord sends it to syslog too) only syslog, so each line is logged once.
    var logging: LoggerSettings {
        let output =
            logOutput.flatMap { LogOutput(name: $0) } ?? (noSyslog || isatty(STDERR_FILENO) == 1 ? .stderr : .syslog)
        return LoggerSettings(level: logLevel.flatMap { LogSeverity(name: $0) } ?? .notice, output: output)
    }

    /// The logger row's fields given here: they keep their value at start whatever the row says.
    var loggingGiven: Set<String> {
        var given: Set<String> = []
        if logLevel != nil { given.insert(LoggerRow.levelField) }
        if logOutput != nil || noSyslog { given.insert(LoggerRow.outputField) }
        return given
    }

    /// Every setting that shapes the run, for the first NOTICE line (the password never).
    var effectiveSettings: String {
        let passwordSource =
            redisPasswordFile.map { "from \($0)" }
            ?? (RedisOptions.environmentPassword == nil ? "none" : "from $REDIS_PASSWORD")
        return [
            "db-config \(dbConfig)",
            noJournal ? "no journal" : "journal \(journal) (\(journalDurability.rawValue))",
            noMetrics ? "no metrics" : "metrics \(metrics)",
            "redis password \(passwordSource)",
            "rcvbuf \(rcvbuf)",
            "batch-size \(batchSize)",
            "batch-delay-ms \(batchDelayMs)",
            "batches-in-flight \(batchesInFlight)",
            "redump-cooldown-ms \(redumpCooldownMs)",
            "restore-timeout \(restoreTimeout) s",
            "policy-poll-seconds \(policyPollSeconds)",
            "verify-interval \(verifyInterval) s",
            "log-level \(logging.level.name)",
            "log-output \(logging.output.rawValue)",
        ].joined(separator: ", ")
    }

    func run() throws {
        // Started with stdin, stdout or stderr closed, the next descriptor opened (the signalfd, the
        // journal) would take its number and log lines would be written into it.
        for fd in STDIN_FILENO...STDERR_FILENO where fcntl(fd, F_GETFD) == -1 {
            _ = open("/dev/null", O_RDWR)
        }
        nsd_malloc_for_large_tables()
        // Signals are blocked before any other thread starts, so only the signalfd sees them.
        let sfd = nsd_signalfd_open()
        guard sfd >= 0 else {
            printError("neighsyncd: cannot open a signalfd: \(String(cString: strerror(-sfd)))")
            throw ExitCode(1)
        }
        let logging = self.logging
        let sink = LogSink(settings: logging)
        let log = Logger(label: "neighsyncd") { _ in SinkLogHandler(sink: sink) }
        defer { sink.flush() }
        log.notice("neighsyncd \(NeighsyncdVersion.current) starting: \(effectiveSettings)")

        var password: String?
        if let f = redisPasswordFile {
            do {
                let file = try PasswordFile.read(f)
                for w in file.warnings { log.warning("\(w)") }
                password = file.password
            } catch {
                log.error("\(error)")
                throw ExitCode(2)
            }
        } else {
            password = RedisOptions.environmentPassword
        }
        let databases: DatabaseConfig
        do {
            let loaded = try DatabaseConfig.load(path: dbConfig)
            databases = loaded.config
            log.notice(
                loaded.fromFile
                    ? "databases from \(dbConfig)"
                    : "\(dbConfig) not found; using APPL_DB 0, CONFIG_DB 4, STATE_DB 6 on 127.0.0.1:6379"
            )
        } catch {
            log.error("\(error)")
            throw ExitCode(2)
        }
        if !noMetrics {
            do {
                try PrivateFolder.create((metrics as NSString).deletingLastPathComponent, mode: 0o755)
            } catch {
                log.error("metrics textfile \(metrics): \(error); pass --metrics PATH or --no-metrics")
            }
        }
        if !noJournal {
            // Folders made here are 0700 whatever the umask; a failure shows when the journal opens.
            do {
                try PrivateFolder.create((journal as NSString).deletingLastPathComponent)
            } catch {
                log.warning("\(error)")
            }
        }
        let options = DaemonOptions(
            journalPath: noJournal ? nil : journal,
            journalDurability: journalDurability,
            receiveBuffer: rcvbuf,
            core: ReconcilerConfig(
                batchSize: batchSize,
                batchDelayMilliseconds: batchDelayMs,
                redumpCooldownMilliseconds: redumpCooldownMs,
                batchesInFlight: batchesInFlight,
                verifyIntervalMilliseconds: verifyInterval * 1000,
                // The keyspace watcher runs with the verifying reads (Daemon.swift).
                watchesStoreKeys: verifyInterval > 0
            ),
            metricsPath: noMetrics ? nil : metrics,
            restoreTimeoutSeconds: restoreTimeout,
            password: password,
            policyPollSeconds: policyPollSeconds,
            logging: logging,
            loggingGiven: loggingGiven
        )
        let runtime: PosixRuntime
        do {
            runtime = try Daemon.make(options: options, log: log, sink: sink, signalFD: sfd, databases: databases)
        } catch {
            log.error("\(error)")  // the journal is another daemon's: this one must not run beside it
            throw ExitCode(1)
        }
        let code = runtime.run()
        log.notice("exit \(code)")
        if code != 0 {
            sink.flush()
            throw ExitCode(code)
        }
    }
}
