import ArgumentParser
import Foundation
import Logging
import Model
import Restorer
import StoreObserver

/// `neighsyncd restore`: restore_neighbors.py's replacement (spec §5, last part).
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "After a system warm reboot, put APPL_DB's neighbors back in the kernel, then set the restore flag.",
        discussion: """
            Not a warm restart (STATE_DB WARM_RESTART_ENABLE_TABLE|system and |swss not enabled, or \
            WARM_RESTART_TABLE|neighsyncd restore_count missing): does nothing, sets no flag, exits 0. \
            Container-only warm restart (|swss): sets NEIGH_RESTORE_TABLE|Flags restored=true at once. System \
            warm reboot (|system): every --interval seconds, adds as STALE the NEIGH_TABLE entries (lo \
            skipped) of each family on each interface that has carrier, an address of that family (the \
            probes' source) and, for Vlan*, a member in STATE_DB; then probes them. It sets the flag once all \
            are added (the probes left go on after it, to --timeout at most), or when --timeout passes \
            first (as upstream: neighsyncd then reconciles what is there; an ERROR names what was not \
            restored). Exit 1 without the flag when Redis or netlink fail; 2 on a usage error. Serves the \
            network namespace it is started in.
            """
    )

    @OptionGroup var redis: RedisOptions

    @Option(help: "Seconds to keep trying; then the flag is set with what was restored (upstream: 110).")
    var timeout = 110

    @Option(help: "Seconds between passes over the interfaces still waiting (upstream: 5).")
    var interval = 5

    @Option(
        name: .customLong("member-settle"),
        help: "Seconds to wait, once, when a Vlan* first has its members (upstream: 15; counts against --timeout)."
    )
    var memberSettle = 15

    @Option(
        name: .customLong("probe-rate"),
        help: "ARP/NS probes per second, after a pass's neighbors are added (0: no probes; none after --timeout)."
    )
    var probeRate = 1000

    @Option(
        name: .customLong("from-journal"),
        help: "Restore the journal's last acknowledged APPL_DB view instead of APPL_DB's (docs/operations.md)."
    )
    var fromJournal: String?

    @Option(help: "Progress textfile, rewritten after each pass (`neighsyncd status` reads it).")
    var metrics = DefaultPaths.restoreMetrics

    @Flag(name: .customLong("no-metrics"), help: "Write no progress textfile.")
    var noMetrics = false

    @Option(name: .customLong("log-output"), help: "syslog, stderr or stdout (default: stderr on a tty, else syslog).")
    var logOutput: String?

    func validate() throws {
        guard timeout >= 0 else { throw ValidationError("--timeout: seconds, 0 or more") }
        guard memberSettle >= 0 else { throw ValidationError("--member-settle: seconds, 0 or more") }
        guard probeRate >= 0 else { throw ValidationError("--probe-rate: probes per second, 0 or more") }
        guard interval >= 1 else { throw ValidationError("--interval: seconds, 1 or more") }
        guard logOutput.map({ LogOutput(name: $0) != nil }) ?? true else {
            throw ValidationError("--log-output: one of syslog, stderr, stdout (any case)")
        }
    }

    func run() throws {
        let output = logOutput.flatMap { LogOutput(name: $0) } ?? (isatty(STDERR_FILENO) == 1 ? .stderr : .syslog)
        let sink = LogSink(settings: LoggerSettings(level: .notice, output: output))
        let log = Logger(label: "neighsyncd") { _ in SinkLogHandler(sink: sink) }
        defer { sink.flush() }
        let report = RestoreProgressFile(path: noMetrics ? nil : metrics, log: log)
        do {
            try restore(log, report)
        } catch let error as ExitCode {
            throw error
        } catch {
            report.progress.phase = .failed
            report.write()
            // After the flag, neighsyncd already reconciles what the kernel holds; say so.
            let flag = report.progress.flagSet ? " (the flag was set before)" : ""
            log.error("restore failed\(flag): \(error)")
            throw ExitCode(1)
        }
    }

    private func restore(_ log: Logger, _ report: RestoreProgressFile) throws {
        let warm = WarmRestartStore(state: try redis.connect("STATE_DB"), config: try redis.connect("CONFIG_DB"))
        let inputs = RestoreInputs(warm: warm)
        switch try inputs.mode() {
        case .cold:
            log.notice("restore: not a warm restart (or no restore_count); nothing to restore, no flag set")
            return
        case .containerOnly:
            try warm.setRestoreFlag()
            log.notice("restore: container-only warm restart; the kernel kept its table, flag set")
            return
        case .systemReboot:
            break
        }
        let (snapshot, issues) = try neighborsToRestore(log)
        for issue in issues { log.warning("restore: \(Self.notRestored(issue))") }
        var planner = RestorePlanner(entries: snapshot.entries)
        let total = planner.count
        report.progress.total = total
        log.notice(
            """
            restore: system warm reboot; \(total) neighbors on \(planner.waiting.count) interfaces to restore, \
            \(issues.count) malformed not restored
            """
        )
        let installer = try KernelInstaller()
        let prober = probeRate > 0 ? NeighborProber() : nil
        for (family, error) in (prober?.unavailable ?? [:]).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            log.error("restore: \(family) neighbors are added but not probed: \(error)")
        }
        var pacer = ProbePacer(perSecond: probeRate, burst: max(1, probeRate / 10))
        let start = ContinuousClock.now
        let deadline = start + .seconds(timeout)
        var refused = 0
        var settled = false
        var firstPass = true
        var (passes, probes) = (0, 0)
        while true {
            passes += 1
            report.write(.restoring, planner, refused: refused, probes: probes, passes: passes)
            let view = try inputs.view(of: planner.waiting.keys)
            let ready = planner.takeReady { view[$0] }
            // Upstream waits once, when the first VLAN is found with members, before restoring it.
            if !settled, let first = ready.first(where: { RestorePlanner.needsMembers($0.interface) }) {
                settled = true
                let pause = min(Duration.seconds(memberSettle), max(.zero, deadline - .now))
                log.notice("restore: \(first.interface) has its members; waiting \(memberSettle) s once before it")
                Thread.sleep(forTimeInterval: pause / .seconds(1))
            }
            // Every ready group is added before any is probed: probing is cut at the deadline, adding never.
            var summary = RefusalSummary()
            var added: [(group: RestoreGroup, entries: [NeighborKey: NeighborEntry])] = []
            for group in ready {
                let outcomes = try installer.install(group.entries, on: group.interface)
                var again: [NeighborKey: NeighborEntry] = [:]
                for (key, outcome) in outcomes {
                    switch outcome {
                    case .installed: break
                    case .retry: again[key] = group.entries[key]
                    case .failed(let code): summary.add(key, errno: code)
                    }
                }
                planner.retry(again)
                added.append((group, group.entries.filter { outcomes[$0.key] == .installed }))
            }
            refused += summary.total
            for line in summary.lines { log.error("restore: \(line)") }
            report.write(.restoring, planner, refused: refused, probes: probes, passes: passes)
            // The flag says the kernel has its table back, so neighsyncd can reconcile; unlike
            // upstream, whose probes are not paced, paced probes do not hold it back (docs/operations.md).
            if planner.isDone, !report.progress.flagSet {
                try warm.setRestoreFlag()
                report.progress.flagSet = true
                report.write(.restoring, planner, refused: refused, probes: probes, passes: passes)
                let toProbe = prober == nil ? 0 : added.reduce(0) { $0 + $1.entries.count }
                log.notice("restore: nothing left to add (\(refused) refused); flag set; \(toProbe) probes to send")
            }
            if let prober {
                let sentBefore = probes
                let (again, sent) = probe(added, view.addresses, prober, &pacer, until: deadline, log) { sentNow in
                    report.write(.restoring, planner, refused: refused, probes: sentBefore + sentNow, passes: passes)
                }
                planner.retry(again)
                probes += sent
            }
            if firstPass {
                firstPass = false
                let missing = planner.waiting.keys.filter { !RestoreInputs.exists($0) }.sorted()
                if !missing.isEmpty {
                    let names = missing.map(\.rawValue).joined(separator: ", ")
                    log.notice("restore: no such interface (yet): \(names); their neighbors wait for it")
                }
            }
            if planner.isDone { break }
            let now = ContinuousClock.now
            guard now < deadline else { break }
            // The last pass runs at the deadline, as upstream's loop checks the time after its sleep.
            let pause = min(Duration.seconds(interval), deadline - now)
            Thread.sleep(forTimeInterval: pause / .seconds(1))
        }
        let left = planner.count
        if left > 0 {
            // As upstream: the loop ends at the timeout and the flag is set all the same, so neighsyncd
            // reconciles what is there instead of waiting for a flag that never comes and exiting 1.
            let rest = planner.waitingSummary
            let flag = report.progress.flagSet ? "the flag was set before" : "setting the flag anyway"
            log.error("restore: timed out after \(timeout) s; not restored: \(rest); \(flag)")
        }
        if !report.progress.flagSet {
            try warm.setRestoreFlag()
            report.progress.flagSet = true
        }
        report.write(left > 0 ? .timedOut : .done, planner, refused: refused, probes: probes, passes: passes)
        let seconds = (ContinuousClock.now - start).components.seconds
        let restored = total - left - refused
        log.notice("restore: \(restored) restored, \(refused) refused, \(left) not ready, in \(seconds) s; flag set")
    }

    /// A malformed APPL_DB item, in restore's words (the snapshot's reason says what the daemon
    /// will do about it, which is not restore's business).
    static func notRestored(_ issue: SnapshotIssue) -> String {
        let why = issue.reason.split(separator: ";", maxSplits: 1).first.map(String.init) ?? issue.reason
        return "\(issue.source): \(issue.item): not restored: \(why)".escapedForLog
    }

    /// Probes each neighbor just added so its peer answers and the entry turns REACHABLE (or
    /// fails and is dropped by the kernel, as upstream's probes do). Stops at `deadline`: what is
    /// left is STALE, which the kernel probes itself when the entry is used. Returns the entries
    /// whose probe met ENETDOWN (the link went down: added again next pass) and the probes sent.
    private func probe(
        _ added: [(group: RestoreGroup, entries: [NeighborKey: NeighborEntry])],
        _ addresses: InterfaceAddresses,
        _ prober: NeighborProber,
        _ pacer: inout ProbePacer,
        until deadline: ContinuousClock.Instant,
        _ log: Logger,
        progress: (_ sent: Int) -> Void
    ) -> (retry: [NeighborKey: NeighborEntry], sent: Int) {
        var retry: [NeighborKey: NeighborEntry] = [:]
        var (unsent, sent) = (0, 0)
        for (group, entries) in added where !entries.isEmpty && prober.canProbe(group.family) {
            if unsent > 0 {
                unsent += entries.count
                continue
            }
            let index = Int32(bitPattern: if_nametoindex(group.interface.rawValue))
            guard index > 0, let mac = addresses[group.interface].mac else {
                log.warning("restore: \(group.interface) has no MAC address; its neighbors are not probed")
                continue
            }
            let source = ProbeSource(ifindex: index, mac: mac, ip: group.source)
            var failed = 0
            var lastError: Int32 = 0
            let sorted = entries.sorted(by: { $0.key < $1.key })
            for (position, (key, entry)) in sorted.enumerated() {
                let wait = pacer.reserve(at: .now)
                guard ContinuousClock.now + wait < deadline else {
                    unsent = sorted.count - position
                    break
                }
                if wait > .zero { Thread.sleep(forTimeInterval: wait / .seconds(1)) }
                switch prober.probe(key.ip, from: source) {
                case 0:
                    sent += 1
                    // About once a second at the pace set, so `status` follows a long probe run.
                    if sent % max(1, probeRate) == 0 { progress(sent) }
                case ENETDOWN: retry[key] = entry
                case let code:
                    failed += 1
                    lastError = code
                }
            }
            if failed > 0 {
                let why = String(cString: strerror(lastError))
                log.warning("restore: \(failed) \(group.family) probes on \(group.interface) failed: \(why)")
            }
        }
        if unsent > 0 {
            log.notice("restore: --timeout reached; \(unsent) probes not sent (the kernel probes a STALE entry on use)")
        }
        return (retry, sent)
    }
}
