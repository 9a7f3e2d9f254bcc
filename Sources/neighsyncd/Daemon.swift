import CNetlink
import Foundation
import Glibc
import Journal
import KernelObserver
import Logging
import Model
import Reconciler
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
}

/// The imperative shell: owns the sockets, the clock and the signals, turns I/O into events for
/// `step`, and carries out the effects it returns. No business rule lives here.
final class Daemon {
    let options: DaemonOptions
    var log: Logger
    let sink: LogSink
    var state: DaemonState
    let journal: JournalWriter?
    let databases: DatabaseConfig

    var appl: RedisConnection?
    var writer: ProducerStateTable?
    var routeWriter: ProducerStateTable?
    var configDB: RedisConnection?
    var stateDB: RedisConnection?
    var watcher: PolicyWatcher?
    var observer: KernelObserver?

    /// Batches sent to APPL_DB whose replies are still to be read, oldest first.
    struct SentBatch { var id: UInt64; var sets: Int; var dels: Int; var at: UInt64 }
    var sentBatches: [SentBatch] = []
    var queue: [Event] = []
    var queueHead = 0
    var timers: [TimerID: UInt64] = [:]
    let storeLoader: StoreLoader
    var storeWanted = false
    /// The next read starts with ProducerStateTable `clear()` (until one succeeds).
    var storeClearPending = false
    var storeRetryAt: UInt64?
    /// Reads of APPL_DB failed in a row: sets the wait before the next (`retryBackoff`).
    var storeFailures = 0
    var restoreDeadline: UInt64?
    var restoreNextCheck: UInt64?
    var policyPollAt: UInt64?
    /// The policy could not be read (or the subscription restored): try again then.
    var policyRetryAt: UInt64?
    var policyFailures = 0
    /// The waits between retries of a Redis connection or read.
    let retryBackoff = Backoff()
    var metricsAt: UInt64?
    var dumpStartedAt: UInt64?
    /// While a dump is outstanding: when to ask the observer whether it stalled.
    var dumpCheckAt: UInt64?
    static let dumpCheckNanoseconds: UInt64 = 100_000_000
    /// Events handled since freed memory was last returned to the system; after this many, the
    /// next idle moment returns it (a dump, a store read or a burst leaves a peak behind).
    var eventsSinceTrim = 0
    static let trimAfterEvents = 10_000
    var exitCode: Int32?
    var metrics = Metrics()
    var refusals = RefusalLog()
    let signalFD: Int32

    /// Throws when another neighsyncd holds the journal (`JournalError.inUse`).
    init(options: DaemonOptions, log: Logger, sink: LogSink, signalFD: Int32, databases: DatabaseConfig,
         storeLoader: StoreLoader) throws {
        self.options = options
        self.storeLoader = storeLoader
        self.log = log
        self.sink = sink
        self.signalFD = signalFD
        self.databases = databases
        let now = Int64(time(nil))
        let t0 = Self.monotonicNow()
        var opened: (journal: Journal, image: JournalImage)?
        if let path = options.journalPath {
            opened = try Journal.openForDaemon(path: path, durability: options.journalDurability, now: now) {
                log.error("\($0)")
            }
        }
        journal = opened.map { j in JournalWriter(journal: j.journal) { [log] in log.error("\($0)") } }
        let image = opened?.image ?? .empty
        if let j = opened?.journal {
            log.notice("journal \(j.path): \(image.actual.entries.count) acknowledged, batches in flight: \(image.inFlight.isEmpty ? "none" : image.inFlight.map { "\($0.id) (\($0.changes.count) changes)" }.joined(separator: ", ")); opened and replayed in \((Self.monotonicNow() - t0) / 1_000_000) ms")
        } else if options.journalPath != nil {
            log.error("running without a journal")
        }
        state = DaemonState(config: options.core, replaying: image)
    }

    static func monotonicNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    // MARK: start-up

    /// Connects to Redis (retrying until it answers or a signal arrives), reads the start-up
    /// settings, and feeds `.started`. Returns false when told to stop meanwhile.
    func start() -> Bool {
        var failures = 0
        while true {
            do {
                try connectAll()
                break
            } catch {
                failures += 1
                let wait = retryBackoff.milliseconds(afterFailures: failures)
                log.error("\(error); retrying in \(wait) ms")
                if waitForSignal(milliseconds: wait) { return false }
            }
        }
        guard let stateDB, let configDB else { return false }
        let warm = WarmRestartStore(state: stateDB, config: configDB)
        do {
            let begin = try warm.begin()
            let timer = try warm.reconcileTimer()
            if begin.warm {
                log.notice("warm start: restore_count \(begin.restoreCount)")
                if !timer.valid { log.notice("getWarmStartTimer: neighsyncd_timer not configured or invalid, using default \(timer.seconds) s") }
                log.notice("getWarmStartTimer: reconcile timer \(timer.seconds) s")
            }
            let policy = try ConfigReader.policy(configDB)
            enqueue(.started(StartupConfig(warmStart: begin.warm, reconcileTimerSeconds: timer.seconds, policy: policy)))
        } catch {
            log.error("reading start-up settings: \(error)")
            return false
        }
        if let w = watcher, !w.notificationsEnabled {
            log.warning("CONFIG_DB keyspace notifications cannot be enabled; re-reading the policy every \(options.policyPollSeconds) s")
            policyPollAt = Self.monotonicNow() + UInt64(options.policyPollSeconds) * 1_000_000_000
        }
        if options.metricsPath != nil { metricsAt = Self.monotonicNow() }
        return true
    }

    func connectAll() throws {
        let a = try databases.connect("APPL_DB", password: options.password)
        let c = try databases.connect("CONFIG_DB", password: options.password)
        let s = try databases.connect("STATE_DB", password: options.password)
        let sub = try databases.connect("CONFIG_DB", password: options.password)
        watcher = try PolicyWatcher(subscriber: sub, database: databases["CONFIG_DB"]?.id ?? 4)
        useAppl(a)
        configDB = c
        stateDB = s
        log.notice("connected: APPL_DB \(a.endpoint) db \(a.database), CONFIG_DB \(c.endpoint) db \(c.database), STATE_DB \(s.endpoint) db \(s.database)")
    }

    func useAppl(_ a: RedisConnection) {
        appl = a
        writer = ProducerStateTable(connection: a)
        routeWriter = ProducerStateTable(connection: a, names: ProducerStateTableNames(table: "ROUTE_TABLE", databaseID: a.database))
    }

    /// Sleeps up to `milliseconds`; true if SIGTERM/SIGINT arrived.
    func waitForSignal(milliseconds: Int) -> Bool {
        let end = Self.monotonicNow() + UInt64(max(0, milliseconds)) * 1_000_000
        while case let now = Self.monotonicNow(), now < end {
            var p = pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, Int32((end - now) / 1_000_000) + 1) > 0 && readSignals() { return true }
        }
        return false
    }

    static let signalNames: [Int32: String] = [
        SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGHUP: "SIGHUP", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2",
        SIGALRM: "SIGALRM", SIGPIPE: "SIGPIPE",
    ]

    /// Reads every signal waiting; true if one asks the daemon to stop (SIGTERM, SIGINT). The
    /// others a supervisor or an operator may send are logged and ignored (docs/operations.md).
    func readSignals() -> Bool {
        var stop = false
        while true {
            var sender: Int32 = 0
            let signo = nsd_signalfd_read(signalFD, &sender)
            guard signo > 0 else { return stop }
            let name = Self.signalNames[signo] ?? "signal \(signo)"
            switch signo {
            case SIGTERM, SIGINT:
                log.notice("\(name) from pid \(sender): finishing the batches in flight, then exiting")
                stop = true
            case SIGPIPE where sender == getpid():
                continue   // our own write to a closed connection: that write's error says so
            default:
                log.notice("\(name) from pid \(sender): ignored; the daemon keeps running")
            }
        }
    }

    // MARK: the loop

    func run() -> Int32 {
        while exitCode == nil {
            processQueue()
            if exitCode != nil { break }
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: storeLoader.fileDescriptor, events: Int16(POLLIN), revents: 0)]
            if let o = observer { fds.append(pollfd(fd: o.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
            if let w = watcher { fds.append(pollfd(fd: w.subscriber.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
            // With replies awaited, only look at the sockets; then wait for the oldest batch's replies.
            var timeout = sentBatches.isEmpty ? pollTimeout() : 0
            if eventsSinceTrim >= Self.trimAfterEvents && (timeout < 0 || timeout > 100) {
                // Idle after a burst: hand the peak's freed memory back to the system, once the
                // journal thread has finished with its share of the burst too.
                if journal?.idle ?? true {
                    nsd_release_free_memory()
                    eventsSinceTrim = 0
                } else {
                    timeout = 100
                }
            }
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno != EINTR { log.error("poll: \(String(cString: strerror(errno)))"); return 1 }
            for f in fds where f.revents != 0 {
                if f.fd == signalFD { handleSignal() }
                else if f.fd == storeLoader.fileDescriptor { storeReadEnded() }
                else if f.fd == observer?.fileDescriptor { readKernel() }
                else if f.fd == watcher?.subscriber.fileDescriptor { readPolicyNotification() }
            }
            fireDeadlines()
            collectWrites()
        }
        journal?.finish()
        writeMetrics()
        return exitCode ?? 0
    }

    func pollTimeout() -> Int32 {
        let others = [storeRetryAt, restoreNextCheck, policyPollAt, policyRetryAt, metricsAt, dumpCheckAt]
        let deadlines = Array(timers.values) + others.compactMap { $0 }
        guard let next = deadlines.min() else { return -1 }   // idle: sleep until something happens
        let now = Self.monotonicNow()
        return next <= now ? 0 : Int32(min((next - now + 999_999) / 1_000_000, 60_000))
    }

    func fireDeadlines() {
        let now = Self.monotonicNow()
        for (t, at) in timers where at <= now {
            timers[t] = nil
            enqueue(.timerFired(t))
        }
        if let at = storeRetryAt, at <= now { storeRetryAt = nil; loadStore() }
        if let at = restoreNextCheck, at <= now { checkRestoreFlag(now) }
        if let at = policyPollAt, at <= now {
            policyPollAt = now + UInt64(options.policyPollSeconds) * 1_000_000_000
            rereadPolicy()
        }
        if let at = policyRetryAt, at <= now { rereadPolicy() }
        if let at = metricsAt, at <= now {
            metricsAt = now + 5_000_000_000
            writeMetrics()
        }
        if let at = dumpCheckAt, at <= now { checkDump(now) }
    }

    /// A dump that makes no progress is nudged, then abandoned (KernelObserver.checkDump); the
    /// core redoes an abandoned one as it does a refused one.
    func checkDump(_ now: UInt64) {
        dumpCheckAt = nil
        guard let o = observer else { return }
        do {
            switch try o.checkDump(now: now) {
            case .idle, .waiting:
                break
            case .nudged(let stalled):
                log.info("kernel neighbor dump: no progress for \(stalled / 1_000_000) ms; nudged the kernel")
            case .abandoned(let stalled):
                metrics.dumpsStalled += 1
                enqueue(.kernelDumpFailed(reason: "netlink dump made no progress for \(stalled / 1_000_000) ms; "
                    + "abandoned, netlink socket reopened"))
            }
        } catch {   // abandoned, but no fresh socket: the old one is kept, and dumped again
            metrics.dumpsStalled += 1
            enqueue(.kernelDumpFailed(
                reason: "netlink dump made no progress; abandoned; reopening the socket: \(error)"))
        }
        armDumpCheck()
    }

    func armDumpCheck() {
        guard dumpCheckAt == nil, observer?.dumpOutstanding == true else { return }
        dumpCheckAt = Self.monotonicNow() + Self.dumpCheckNanoseconds
    }

    func enqueue(_ e: Event) { queue.append(e) }

    func processQueue() {
        while queueHead < queue.count {
            let e = queue[queueHead]
            queueHead += 1
            feed(e)
            if exitCode != nil { break }
        }
        queue.removeAll(keepingCapacity: true)
        queueHead = 0
    }

    /// One event through the core, and its effects carried out.
    func feed(_ e: Event) {
        for effect in step(&state, e) { perform(effect) }
        eventsSinceTrim += 1
    }

    func handleSignal() {
        if readSignals() { enqueue(.shutdownRequested) }
    }

    func readKernel() {
        guard let o = observer else { return }
        do {
            try o.drain { event in
                switch event {
                case .neighbor(let m):
                    feed(.kernelMessage(m))
                case .neighborDumpDone(let interrupted):
                    if let t = dumpStartedAt {
                        metrics.dumpLatency.observe(Double(Self.monotonicNow() - t) / 1e9)
                        log.notice("kernel neighbor dump \(interrupted ? "interrupted" : "complete") after \((Self.monotonicNow() - t) / 1_000_000) ms")
                    }
                    feed(.kernelDumpDone(interrupted: interrupted))
                case .overrun:
                    feed(.kernelOverrun)
                case .linksChanged:
                    feed(.linksChanged)
                case .malformed(let e):
                    log.warning("netlink: \(e); skipped")
                case .linkRefused(let l):
                    log.warning("netlink: \(l)")
                case .dumpFailed(let errno):
                    feed(.kernelDumpFailed(reason: "netlink dump refused: \(String(cString: strerror(errno)))"))
                case .dumpRaced:
                    feed(.kernelDumpRaced)
                }
            }
        } catch {
            log.error("\(error)")
        }
        armDumpCheck()
    }

    func readPolicyNotification() {
        guard let w = watcher else { return }
        do {
            if try w.changed() { rereadPolicy() }
        } catch {
            // Killed, or Redis restarted: subscribe again, and read what changed meanwhile.
            log.error("CONFIG_DB subscription: \(error); subscribing again")
            watcher = nil
            rereadPolicy()
        }
    }

    /// Reads the policy (and restores the subscription if it was lost). A broken connection is
    /// replaced first; a failure is retried with backoff, so a change is never missed for good.
    func rereadPolicy() {
        policyRetryAt = nil
        do throws(RedisError) {
            let c = try healthy(&configDB, "CONFIG_DB")
            if watcher == nil {
                let w = try PolicyWatcher(subscriber: try databases.connect("CONFIG_DB", password: options.password),
                                          database: c.database)
                watcher = w
                log.notice("CONFIG_DB subscription restored")
                if !w.notificationsEnabled && policyPollAt == nil {
                    policyPollAt = Self.monotonicNow() + UInt64(options.policyPollSeconds) * 1_000_000_000
                }
            }
            enqueue(.policyChanged(try ConfigReader.policy(c)))
            policyFailures = 0
        } catch {
            policyRetryAt = retryTime(after: error, "reading CONFIG_DB policy", failures: &policyFailures)
        }
    }

    /// Counts and logs a failed Redis read; returns when to try again (`retryBackoff`).
    func retryTime(after error: RedisError, _ what: String, failures: inout Int) -> UInt64 {
        metrics.redisErrors += 1
        failures += 1
        let wait = retryBackoff.milliseconds(afterFailures: failures)
        log.error("\(what): \(error); retrying in \(wait) ms")
        return Self.monotonicNow() + UInt64(wait) * 1_000_000
    }

    /// The connection, replaced first if it is broken (killed, or Redis restarted): one that
    /// failed mid-reply is never used again.
    func healthy(_ connection: inout RedisConnection?, _ name: String) throws(RedisError) -> RedisConnection {
        if let c = connection, !c.broken { return c }
        connection = nil
        let fresh = try databases.connect(name, password: options.password)
        connection = fresh
        metrics.redisReconnects += 1
        log.notice("\(name) reconnected")
        return fresh
    }

    func checkRestoreFlag(_ now: UInt64) {
        restoreNextCheck = nil
        do {
            let s = try healthy(&stateDB, "STATE_DB"), c = try healthy(&configDB, "CONFIG_DB")
            if try WarmRestartStore(state: s, config: c).restoreFlagSet() {
                restoreDeadline = nil
                enqueue(.restoreFlagSet)
                return
            }
        } catch {
            log.error("reading NEIGH_RESTORE_TABLE|Flags: \(error)")
        }
        if let d = restoreDeadline, now >= d {
            restoreDeadline = nil
            enqueue(.restoreWaitTimedOut)
        } else {
            restoreNextCheck = now + 1_000_000_000
        }
    }

    // MARK: effects

    func perform(_ effect: Effect) {
        switch effect {
        case .setWarmRestartState(let s):
            do throws(RedisError) {
                let st = try healthy(&stateDB, "STATE_DB"), c = try healthy(&configDB, "CONFIG_DB")
                try WarmRestartStore(state: st, config: c).setState(s)
            } catch {
                log.error("writing warm-restart state \(s.rawValue): \(error)")
            }
        case .loadStore(let clearingPending):
            storeWanted = true
            storeClearPending = storeClearPending || clearingPending
            loadStore()
        case .waitForRestoreFlag:
            let now = Self.monotonicNow()
            restoreDeadline = now + UInt64(options.restoreTimeoutSeconds) * 1_000_000_000
            restoreNextCheck = now
        case .requestKernelDump:
            requestDump()
        case .write(let batch):
            write(batch)
        case .removeHostRoute(let vrf, let ip):
            // The same connection: the replies of the batches sent come first.
            while !sentBatches.isEmpty { collectWrites() }
            do { try routeWriter?.delete(keys: ["\(vrf):\(ip)"]) } catch { log.error("ROUTE_TABLE del \(vrf):\(ip): \(error)") }
        case .journal(let record):
            journal?.submit(record)
        case .armTimer(let t, var ms):
            // Up to a quarter more, so daemons that Redis refused together do not retry together.
            if t == .writeRetry { ms += Int.random(in: 0...max(0, ms / 4)) }
            timers[t] = Self.monotonicNow() + UInt64(max(0, ms)) * 1_000_000
        case .log(let level, let message):
            log.log(level: Logger.Level(level), "\(message)")
        case .exit(let code):
            exitCode = code
        }
    }

    func requestDump() {
        do {
            if observer == nil {
                let o = try KernelObserver(receiveBuffer: options.receiveBuffer)
                log.notice("netlink: receive buffer \(o.receiveBufferBytes) bytes (\(o.receiveBufferForced ? "SO_RCVBUFFORCE" : "SO_RCVBUF, capped by net.core.rmem_max"))")
                observer = o
            }
            dumpStartedAt = Self.monotonicNow()
            try observer?.requestNeighborDump()
            armDumpCheck()
        } catch {
            enqueue(.kernelDumpFailed(reason: "\(error)"))
        }
    }

    /// Starts the APPL_DB read in the background; `storeReadEnded` takes its result.
    func loadStore() {
        guard storeWanted else { return }
        storeLoader.start(databases: databases, password: options.password, clearingPending: storeClearPending,
                          expected: state.actual.entries.count)
    }

    func storeReadEnded() {
        guard let result = storeLoader.take() else { return }
        do throws(RedisError) {
            let loaded = try result.get()
            // Batches go out on the event loop's own connection: have one before the core may write.
            if appl == nil || appl?.broken == true {
                useAppl(try databases.connect("APPL_DB", password: options.password))
                metrics.redisReconnects += 1
                log.notice("APPL_DB reconnected")
            }
            if storeClearPending { log.notice("APPL_DB: pending NEIGH_TABLE operations of the previous instance cleared") }
            log.notice("APPL_DB NEIGH_TABLE read: \(loaded.snapshot.entries.count) entries, \(loaded.issues.count) malformed, in \(loaded.milliseconds) ms")
            for i in loaded.issues.prefix(100) { log.warning("\(i)") }
            if loaded.issues.count > 100 { log.warning("… and \(loaded.issues.count - 100) more malformed APPL_DB entries") }
            storeWanted = false
            storeClearPending = false
            storeFailures = 0
            enqueue(.storeLoaded(loaded.snapshot))
        } catch {
            // The read had a connection of its own: the event loop's is left as it is.
            storeRetryAt = retryTime(after: error, "reading APPL_DB", failures: &storeFailures)
        }
    }

    /// Sends a batch and returns: its replies are read by `collectWrites`, once the loop has
    /// looked at its sockets, so Redis works on it while the core builds the next one.
    func write(_ batch: Batch) {
        guard let w = writer else {
            enqueue(.batchFailed(id: batch.id, reason: "APPL_DB not connected"))
            return
        }
        let sets = batch.changes.lazy.filter(\.isSet).count
        sentBatches.append(SentBatch(id: batch.id, sets: sets, dels: batch.changes.count - sets, at: Self.monotonicNow()))
        do {
            try w.send(batch)
        } catch where error.kind == .refused {   // SCRIPT LOAD refused: nothing of the batch was sent
            sentBatches.removeLast()
            writeRefused(id: batch.id, error.message)
        } catch {
            writesFailed(error)
        }
    }

    /// Reads the replies of the oldest batch sent (waiting for them) and reports what completed.
    func collectWrites() {
        guard !sentBatches.isEmpty else { return }
        do throws(RedisError) {
            guard let w = writer else { throw RedisError(.io, "APPL_DB not connected") }
            let replies = try w.collect().replies
            let now = Self.monotonicNow()
            let ids = replies.map(\.id)
            guard !ids.isEmpty, ids.elementsEqual(sentBatches.prefix(ids.count).map(\.id)) else {
                throw RedisError(.reply, "replies for batches \(ids), awaited \(sentBatches.map(\.id))")
            }
            for reply in replies {
                let b = sentBatches.removeFirst()
                if let refusal = reply.refusal {
                    writeRefused(id: b.id, refusal)
                    continue
                }
                metrics.batchLatency.observe(Double(now - b.at) / 1e9)
                log.info("applied batch \(b.id): \(b.sets) set, \(b.dels) del")
                if let line = refusals.accepted() { log.notice("\(line)") }
                enqueue(.batchAcknowledged(id: b.id))
            }
        } catch {
            writesFailed(error)
        }
    }

    /// Redis answered with an error reply (OOM, WRONGTYPE): the connection is fine and is kept;
    /// the core writes the batch again after a backoff. The log sums the refusals up.
    func writeRefused(id: UInt64, _ reason: String) {
        if let line = refusals.refused(reason, at: Self.monotonicNow()) { log.warning("\(line)") }
        enqueue(.batchRefused(id: id, reason: reason))
    }

    /// The connection is gone (or its replies made no sense) with every reply still awaited: none
    /// of those batches is acknowledged; the core reads the store again once reconnected.
    func writesFailed(_ error: RedisError) {
        metrics.redisErrors += 1
        appl = nil
        writer = nil
        for b in sentBatches { enqueue(.batchFailed(id: b.id, reason: "\(error)")) }
        sentBatches = []
    }

    /// The event loop's APPL_DB connection is usable and the last store read did not fail.
    var redisUp: Bool { appl?.broken == false && storeRetryAt == nil }

    func writeMetrics() {
        guard let path = options.metricsPath else { return }
        if let o = observer {
            (metrics.linksRefused, metrics.neighborsRefused) = (o.links.refused.count, o.refusedNeighbors)
        }
        do { try Metrics.write(metrics.render(state, redisUp: redisUp, logDropped: sink.droppedTotal, journalErrors: journal?.errors ?? 0), to: path) } catch {
            log.error("writing metrics to \(path): \(error)")
        }
    }
}
