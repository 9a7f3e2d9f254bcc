import CNetlink
import Foundation
import Glibc
import Journal
import KernelObserver
import Logging
import Model
import Reconciler
import Shell
import StoreObserver

/// Everything `neighsyncd run` is told on its command line.
struct DaemonOptions {
    var journalPath: String?
    var journalDurability: Journal.Durability
    var receiveBuffer: Int
    var core: ReconcilerConfig
    var metricsPath: String?
    var restoreTimeoutSeconds: Int
    var password: String?
    var policyPollSeconds: Int
    /// The log settings until CONFIG_DB `LOGGER|neighsyncd` is read (its defaults, if absent).
    var logging: LoggerSettings
    /// The logger row's fields the command line gave (`Run.loggingGiven`).
    var loggingGiven: Set<String>
}

/// `neighsyncd run` as wiring: the journal replayed into the core's state, one handler per
/// resource on their production transports, the signals, and the POSIX runtime that runs them.
enum Daemon {
    /// Throws when another neighsyncd holds the journal (`JournalError.inUse`) or a descriptor
    /// cannot be had.
    static func make(
        options: DaemonOptions,
        log: Logger,
        sink: LogSink,
        signalFD: Int32,
        databases: DatabaseConfig
    ) throws -> PosixRuntime {
        let report: @Sendable (LogLevel, String) -> Void = { level, message in
            log.log(level: Logger.Level(level), "\(message)")
        }
        let context = ShellContext(clock: PosixClock.now, random: { Int.random(in: 0...max(0, $0)) }, log: report)
        let (journal, image) = try openJournal(options, log: log)
        let journalLink = JournalLink(sink: journal)
        let store = StoreLink(
            context: context,
            journal: journalLink,
            reader: try StoreLoader(databases: databases, password: options.password),
            connect: { () throws(RedisError) -> any RedisTransport in
                try databases.connect("APPL_DB", password: options.password)
            }
        )
        let kernel = KernelLink(context: context) { () throws(KernelObserverError) -> KernelObserver in
            try KernelObserver(receiveBuffer: options.receiveBuffer)
        }
        let pollers = Pollers(
            context: context,
            settings: RedisSettings(databases: databases, password: options.password, log: report),
            restoreTimeoutSeconds: options.restoreTimeoutSeconds,
            policyPollSeconds: options.policyPollSeconds,
            logging: options.logging,
            loggingGiven: options.loggingGiven,
            applyLogging: { sink.apply($0) }
        )
        let shell = Shell(
            context: context,
            state: DaemonState(config: options.core, replaying: image),
            kernel: kernel,
            store: store,
            journal: journalLink,
            pollers: pollers
        )
        if options.core.verifyIntervalMilliseconds > 0 {
            shell.verifier = StoreVerifier(
                context: context,
                reader: try StoreLoader(databases: databases, password: options.password)
            )
            shell.keyWatcher = StoreKeyWatcher(context: context) { () throws(RedisError) -> any RedisTransport in
                try databases.connect("APPL_DB", password: options.password)
            }
        }
        if let path = options.metricsPath {
            let textfile = MetricsTextfile(path: path)
            shell.writeMetrics = { [unowned shell] in
                if let (level, message) = textfile.write(shell.renderMetrics(logDropped: sink.droppedTotal)) {
                    report(level, message)
                }
            }
            context.arm(.metrics, afterMilliseconds: 0)
        }
        shell.start()
        return PosixRuntime(shell: shell, signalFD: signalFD) { readSignals(signalFD, log: log) }
    }

    private static func openJournal(
        _ options: DaemonOptions,
        log: Logger
    ) throws
        -> (JournalWriter?, JournalImage)
    {
        guard let path = options.journalPath else { return (nil, .empty) }
        let t0 = PosixClock.now()
        guard
            let opened = try Journal.openForDaemon(
                path: path,
                durability: options.journalDurability,
                now: Int64(time(nil)),
                report: { log.error("\($0)") }
            )
        else {
            log.error("running without a journal")
            return (nil, .empty)
        }
        let image = opened.image
        let inFlight =
            image.inFlight.isEmpty
            ? "none" : image.inFlight.map { "\($0.id) (\($0.changes.count) changes)" }.joined(separator: ", ")
        let ms = (PosixClock.now() - t0) / 1_000_000
        log.notice(
            """
            journal \(opened.journal.path): \(image.actual.entries.count) acknowledged, \
            batches in flight: \(inFlight); opened and replayed in \(ms) ms
            """
        )
        return (try JournalWriter(journal: opened.journal) { [log] in log.error("\($0)") }, image)
    }

    static let signalNames: [Int32: String] = [
        SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGHUP: "SIGHUP", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2",
        SIGALRM: "SIGALRM", SIGPIPE: "SIGPIPE",
    ]

    /// Reads every signal waiting; true if one asks the daemon to stop (SIGTERM, SIGINT). The
    /// others a supervisor or an operator may send are logged and ignored (docs/operations.md).
    static func readSignals(_ signalFD: Int32, log: Logger) -> Bool {
        var stop = false
        while true {
            var sender: Int32 = 0
            let signo = nsd_signalfd_read(signalFD, &sender)
            guard signo > 0 else { return stop }
            let name = signalNames[signo] ?? "signal \(signo)"
            switch signo {
            case SIGTERM, SIGINT:
                log.notice("\(name) from pid \(sender): finishing the batches in flight, then exiting")
                stop = true
            case SIGPIPE where sender == getpid():
                continue  // our own write to a closed connection: that write's error says so
            default:
                log.notice("\(name) from pid \(sender): ignored; the daemon keeps running")
            }
        }
    }
}
