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
            Not a warm restart (STATE_DB WARM_RESTART_ENABLE_TABLE|system and |swss not enabled): does \
            nothing, sets no flag, exits 0. Container-only warm restart (|swss): sets NEIGH_RESTORE_TABLE|Flags \
            restored=true at once. System warm reboot (|system): every --interval seconds, adds the NEIGH_TABLE \
            entries (lo skipped) of each interface that has carrier (and, for Vlan*/PortChannel*, a member in \
            STATE_DB) as STALE and probes them, then sets the flag, also when --timeout passes first (as upstream: \
            neighsyncd then reconciles what is there; an ERROR names what was not restored). Exit 1 without \
            the flag when Redis or netlink fail; 2 on a usage error. Serves the network namespace it is started in.
            """
    )

    @OptionGroup var redis: RedisOptions

    @Option(help: "Seconds to keep trying before giving up without the flag (upstream: 110).")
    var timeout = 110

    @Option(help: "Seconds between passes over the interfaces still waiting (upstream: 5).")
    var interval = 5

    @Option(
        name: .customLong("member-settle"),
        help: "Seconds to wait, once, when a Vlan*/PortChannel* first has its members (upstream: 15)."
    )
    var memberSettle = 15

    @Option(
        name: .customLong("probe-rate"),
        help: "ARP/NS probes per second, after each neighbor is added (0: no probes)."
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
            log.error("restore failed: \(error)")
            throw ExitCode(1)
        }
    }

    private func restore(_ log: Logger, _ report: RestoreProgressFile) throws {
        let inputs = RestoreInputs(state: try redis.connect("STATE_DB"))
        switch try inputs.mode() {
        case .cold:
            log.notice("restore: not a warm restart; nothing to restore, no flag set")
            return
        case .containerOnly:
            try inputs.setRestoredFlag()
            log.notice("restore: container-only warm restart; the kernel kept its table, flag set")
            return
        case .systemReboot:
            break
        }
        let snapshot = try neighborsToRestore(log)
        var planner = RestorePlanner(entries: snapshot.entries, malformedKeys: snapshot.malformedKeys)
        let total = planner.waiting.values.reduce(0) { $0 + $1.count }
        let interfaces = planner.waiting.count
        let skipped = planner.skipped.count
        report.progress.total = total
        log.notice(
            "restore: system warm reboot; \(total) neighbors on \(interfaces) interfaces to restore, \(skipped) skipped"
        )
        let installer = try KernelInstaller()
        let prober = probeRate > 0 ? try NeighborProber() : nil
        var pacer = ProbePacer(perSecond: probeRate, burst: max(1, probeRate / 10))
        let start = ContinuousClock.now
        let deadline = start + .seconds(timeout)
        var failed = 0
        var settled = false
        var (passes, probes) = (0, 0)
        while true {
            passes += 1
            report.write(.restoring, planner, refused: failed, probes: probes, passes: passes)
            var readinessError: (any Error)?
            let ready = planner.takeReady { interface in
                do { return try inputs.readiness(interface) } catch {
                    readinessError = error
                    return InterfaceReadiness(carrierUp: false, hasMembers: false)
                }
            }
            if let readinessError { throw readinessError }
            // Upstream waits once, when the first VLAN or LAG is found with members, before restoring it.
            if !settled, let first = ready.first(where: { RestorePlanner.needsMembers($0.interface) }) {
                settled = true
                log.notice("restore: \(first.interface) has its members; waiting \(memberSettle) s once before it")
                Thread.sleep(forTimeInterval: Double(memberSettle))
            }
            for (interface, entries) in ready {
                let outcomes = try installer.install(entries, on: interface)
                var again: [NeighborKey: NeighborEntry] = [:]
                for (key, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
                    switch outcome {
                    case .installed: break
                    case .retry: again[key] = entries[key]
                    case .failed(let code):
                        failed += 1
                        log.error("restore: \(key): kernel refused it: \(String(cString: strerror(code)))")
                    }
                }
                if let prober {
                    let installed = entries.filter { outcomes[$0.key] == .installed }
                    probes += probe(installed, on: interface, prober, &pacer, retry: &again, log)
                }
                planner.retry(again)
                report.write(.restoring, planner, refused: failed, probes: probes, passes: passes)
            }
            if planner.isDone { break }
            let now = ContinuousClock.now
            guard now < deadline else { break }
            // The last pass runs at the deadline, as upstream's loop checks the time after its sleep.
            let pause = min(Duration.seconds(interval), deadline - now)
            Thread.sleep(forTimeInterval: pause / .seconds(1))
        }
        let left = planner.waiting.values.reduce(0) { $0 + $1.count }
        if left > 0 {
            // As upstream: the loop ends at the timeout and the flag is set all the same, so neighsyncd
            // reconciles what is there instead of waiting for a flag that never comes and exiting 1.
            let names = planner.waiting.map { "\($0.key) (\($0.value.count))" }.sorted().joined(separator: ", ")
            log.error("restore: timed out after \(timeout) s; not restored: \(names); setting the flag anyway")
        }
        try inputs.setRestoredFlag()
        report.write(left > 0 ? .timedOut : .done, planner, refused: failed, probes: probes, passes: passes)
        let seconds = (ContinuousClock.now - start).components.seconds
        let restored = total - left - failed
        log.notice("restore: \(restored) restored, \(failed) refused, \(left) not ready, in \(seconds) s; flag set")
    }

    /// Probes each neighbor just added so its peer answers and the entry turns REACHABLE (or
    /// fails and is dropped by the kernel, as upstream's probes do). ENETDOWN retries it next pass.
    private func probe(
        _ entries: [NeighborKey: NeighborEntry],
        on interface: InterfaceName,
        _ prober: NeighborProber,
        _ pacer: inout ProbePacer,
        retry: inout [NeighborKey: NeighborEntry],
        _ log: Logger
    ) -> Int {
        guard !entries.isEmpty else { return 0 }
        guard let source = NeighborProber.source(for: interface) else {
            log.warning("restore: \(interface) has no MAC address; its neighbors are not probed")
            return 0
        }
        var (refused, sent) = (0, 0)
        var lastError: Int32 = 0
        for (key, entry) in entries.sorted(by: { $0.key < $1.key }) {
            let wait = pacer.reserve(at: .now)
            if wait > .zero { Thread.sleep(forTimeInterval: wait / .seconds(1)) }
            switch prober.probe(key.ip, from: source) {
            case 0: sent += 1
            case ENETDOWN: retry[key] = entry
            case let code:
                refused += 1
                lastError = code
            }
        }
        if refused > 0 {
            log.warning("restore: \(refused) probes on \(interface) failed: \(String(cString: strerror(lastError)))")
        }
        return sent
    }
}
