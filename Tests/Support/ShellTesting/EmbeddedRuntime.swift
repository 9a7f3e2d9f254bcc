import KernelObserver
import Model
import Reconciler
import RunTrace
import Shell
import StoreObserver

/// The production handlers under a virtual clock and fake transports, as swift-nio's
/// EmbeddedEventLoop runs channel handlers: nothing waits, nothing races, and a run is a function
/// of its inputs and its seed. Each step feeds the queue to the core, lets each fake that has
/// something ready call its handler in, runs the deadlines due, reads the replies awaited, and
/// when nothing is left at this instant moves the clock to the next deadline or fake event.
public final class EmbeddedRuntime {
    public private(set) var now: UInt64
    public let kernel: FakeKernel
    public let redis: FakeRedisServer
    public let journal: FakeJournal
    public let settings: FakeSettings
    public let reader: FakeStoreReader
    public let shell: Shell
    /// Every event fed to the core and the effects it returned, in order.
    public private(set) var trace: [(Event, [Effect])] = []
    /// The ids of the batches sent to the fake Redis, in order, and whether the journal had
    /// committed each one's `batchWritten` record when it went.
    public private(set) var sent: [(id: UInt64, journaled: Bool)] = []
    public private(set) var logs: [String] = []
    /// The log settings the shell applied, in order (a change of CONFIG_DB `LOGGER|neighsyncd`).
    public private(set) var loggingApplied: [LoggerSettings] = []
    /// Virtual time each busy step takes, so timers interleave with I/O as in a real run.
    public var stepNanoseconds: UInt64 = 50_000
    private var rng: SplitMix64
    /// The server generation whose restart the idle connection has seen close.
    private var generationSeen: Int

    /// A daemon starting now: its journal `image` replayed into the core, its fakes given (a
    /// restart after a crash passes the same kernel and server and the journal's image).
    public init(
        seed: UInt64,
        config: ReconcilerConfig,
        kernel: FakeKernel,
        redis: FakeRedisServer,
        settings: FakeSettings = FakeSettings(),
        image: JournalImage = .empty,
        loggingGiven: Set<String> = [],
        startingAt start: UInt64 = 1_000_000_000
    ) {
        now = start
        rng = SplitMix64(seed: seed)
        generationSeen = redis.generation
        self.kernel = kernel
        self.redis = redis
        self.settings = settings
        var clock: () -> UInt64 = { 0 }
        var random: (Int) -> Int = { _ in 0 }
        var log: (LogLevel, String) -> Void = { _, _ in }
        let context = ShellContext(clock: { clock() }, random: { random($0) }, log: { log($0, $1) })
        journal = FakeJournal(image: image, clock: { clock() })
        reader = FakeStoreReader(server: redis, clock: { clock() })
        let journalLink = JournalLink(sink: journal)
        let store = StoreLink(context: context, journal: journalLink, reader: reader) {
            () throws(RedisError) -> any RedisTransport in try redis.connect()
        }
        let kernelLink = KernelLink(context: context) { () throws(KernelObserverError) -> KernelObserver in
            try KernelObserver(receiveBuffer: 64 << 10, open: kernel.open)
        }
        var applyLogging: (LoggerSettings) -> Void = { _ in }
        let pollers = Pollers(
            context: context,
            settings: settings,
            restoreTimeoutSeconds: 180,
            policyPollSeconds: 10,
            logging: LoggerSettings(level: .notice, output: .stderr),
            loggingGiven: loggingGiven,
            applyLogging: { applyLogging($0) }
        )
        shell = Shell(
            context: context,
            state: DaemonState(config: config, replaying: image),
            kernel: kernelLink,
            store: store,
            journal: journalLink,
            pollers: pollers
        )
        clock = { [unowned self] in self.now }
        random = { [unowned self] bound in Int(self.rng.next() % UInt64(max(0, bound) + 1)) }
        log = { [unowned self] level, message in self.logs.append("\(level): \(message)") }
        applyLogging = { [unowned self] in self.loggingApplied.append($0) }
        shell.observe = { [unowned self] e, effects in self.trace.append((e, effects)) }
        store.onSend = { [unowned self] id in
            self.sent.append((id, self.journal.committedBatches.contains(id)))
        }
        shell.start()
    }

    public var exitCode: Int32? { shell.exitCode }
    public var state: DaemonState { shell.state }

    /// SIGTERM.
    public func requestShutdown() { shell.context.enqueue(.shutdownRequested) }

    /// Runs until `nanoseconds` of virtual time have passed or the daemon exited.
    public func run(for nanoseconds: UInt64) {
        let end = now + nanoseconds
        while shell.exitCode == nil {
            shell.turn()
            if shell.exitCode != nil { break }
            var busy = false
            if kernel.socket?.readable == true {
                shell.kernel.readable()
                busy = true
            }
            if let at = reader.endsAt, at <= now {
                shell.store.readEnded()
                busy = true
            }
            if redis.generation != generationSeen {  // the server closed its connections
                generationSeen = redis.generation
                shell.store.connectionReadable()
                busy = true
            }
            if !settings.pendingChange.isEmpty {  // a CONFIG_DB change notified
                shell.pollers.subscriptionReadable()
                busy = true
            }
            if journal.commitDue() {
                shell.journalReadable()
                busy = true
            }
            shell.fireDueDeadlines()
            if shell.store.awaitingReplies {
                shell.store.collect()
                busy = true
            }
            if busy || shell.context.eventsQueued > 0 {
                now += stepNanoseconds
                if now >= end { break }  // still busy: a later `run` goes on from here
                continue
            }
            let next = [shell.context.nextDeadline(), reader.endsAt, journal.nextCommitAt].compactMap { $0 }.min()
            guard let next, next <= end else { break }
            now = max(now, next)
        }
        now = max(now, end)
    }

    /// Adds every event fed and every effect returned, in order, to `hash`: the same for the same
    /// seed and inputs in any process (`canonical` prints hashed collections sorted).
    public func addTrace(to hash: inout TraceHash) {
        for (e, effects) in trace { hash.add("\(canonical(e))|\(effects.map(canonical))") }
    }

    /// `addTrace` of this run alone.
    public var traceDigest: UInt64 {
        var hash = TraceHash()
        addTrace(to: &hash)
        return hash.value
    }
}
