import Model
import Reconciler

/// The imperative shell, as wiring: one event queue and one deadline heap (in `ShellContext`),
/// the core's state, and one handler per resource. Every source enqueues; each `turn` feeds the
/// queue to `step` and hands each effect to its handler. The runtime (`PosixRuntime`, or a test's
/// embedded one) owns the clock and the sockets and calls in when something is ready.
public final class Shell {
    public let context: ShellContext
    public private(set) var state: DaemonState
    public let kernel: KernelLink
    public let store: StoreLink
    public let journal: JournalLink
    public let pollers: Pollers
    /// Anti-entropy's reads of APPL_DB; nil: `.verifyStore` is answered with a failure.
    public var verifier: StoreVerifier?
    /// Anti-entropy's keyspace notifications; nil: drift is found by the periodic read only.
    public var keyWatcher: StoreKeyWatcher?
    public private(set) var exitCode: Int32?
    /// Events fed to the core since start.
    public private(set) var eventsHandled = 0
    /// Sees every event fed and the effects it returned, in order (tests keep a trace with it).
    public var observe: ((Event, [Effect]) -> Void)?
    /// Writes the metrics (the runtime's); called every 5 s once `.metrics` is armed.
    public var writeMetrics: (() -> Void)?

    public init(
        context: ShellContext,
        state: DaemonState,
        kernel: KernelLink,
        store: StoreLink,
        journal: JournalLink,
        pollers: Pollers
    ) {
        self.context = context
        self.state = state
        self.kernel = kernel
        self.store = store
        self.journal = journal
        self.pollers = pollers
    }

    public func start() {
        pollers.start()
        keyWatcher?.start()
    }

    /// Feeds every queued event to the core (and those its effects queue), in order.
    public func turn() {
        repeat {
            while exitCode == nil, let e = context.dequeue() {
                let effects = step(&state, e)
                observe?(e, effects)
                for effect in effects { perform(effect) }
                eventsHandled += 1
            }
            // NEIGH_FAILED_TABLE operations the turn gathered go out in one call (a failure queues
            // `storeUnavailable`, fed to the core at once).
            store.sendFailedNeighbors()
        } while exitCode == nil && context.eventsQueued > 0
    }

    /// Runs every deadline due now, in (time, arming) order.
    public func fireDueDeadlines() {
        while exitCode == nil, let d = context.deadlines.popDue(now: context.now) { fire(d) }
    }

    private func fire(_ d: Deadline) {
        switch d {
        case .timer(let t): context.enqueue(.timerFired(t))
        case .startup: pollers.start()
        case .storeRead: store.retryRead()
        case .restoreCheck: pollers.checkRestoreFlag()
        case .policyPoll: pollers.pollPolicy()
        case .policyRetry: pollers.reread()
        case .dumpCheck: kernel.checkDump()
        case .keyWatchRetry: keyWatcher?.start()
        case .keyWatchReport: keyWatcher?.report()
        case .metrics:
            context.arm(.metrics, afterMilliseconds: 5000)
            writeMetrics?()
        }
    }

    /// The journal committed more records: batches held for them may go out.
    public func journalReadable() {
        journal.readable()
        store.journalAdvanced()
    }

    private func perform(_ effect: Effect) {
        switch effect {
        case .setWarmRestartState(let s): pollers.setWarmRestartState(s)
        case .loadStore(let clearingPending):
            store.load(
                clearingPending: clearingPending,
                expected: state.actual.entries.count,
                failedTable: state.policy.dualToR
            )
        case .verifyStore(let id):
            if let verifier {
                verifier.verify(id: id, expected: state.actual.entries.count)
            } else {
                context.enqueue(.storeVerifyFailed(id: id, reason: "no verifying reader"))
            }
        case .waitForRestoreFlag: pollers.waitForRestoreFlag()
        case .requestKernelDump: kernel.requestDump()
        case .write(let batch): store.write(batch)
        case .removeHostRoute(let vrf, let ip): store.removeHostRoute(vrf: vrf, ip: ip)
        case .writeFailedNeighbors(let changes): store.writeFailedNeighbors(changes)
        case .journal(let record): journal.record(record)
        case .armTimer(let t, var ms):
            // Up to a quarter more, so daemons that Redis refused together do not retry together.
            if t == .writeRetry { ms += context.random(max(0, ms / 4)) }
            context.arm(.timer(t), afterMilliseconds: ms)
        case .log(let level, let message): context.log(level, message)
        case .exit(let code): exitCode = code
        }
    }

    /// The metrics textfile's text.
    public func renderMetrics(logDropped: Int) -> String {
        var m = context.metrics
        if let o = kernel.observer {
            (m.linksRefused, m.neighborsRefused) = (o.links.refused.count, o.refusedNeighbors)
        }
        m.redisReconnects += pollers.reconnects
        return m.render(state, redisUp: store.up, logDropped: logDropped, journalErrors: journal.errors)
    }

    /// At exit: waits for the journal to write everything submitted.
    public func finish() { journal.finish() }
}
