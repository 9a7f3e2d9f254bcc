import ArgumentParser
import Foundation
import Journal
import Reconciler
import Restorer

/// `neighsyncd status`: what the running daemon last reported (its metrics textfile) and what
/// its journal holds.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Show the daemon's phase, counts, counters and Redis state (from --metrics) and its journal's last "
            + "reconcile."
    )

    @Option(help: "The metrics textfile `neighsyncd run --metrics` writes (default: \(DefaultPaths.metrics)).")
    var metrics: String?

    @Option(help: "The journal file (default: \(DefaultPaths.journal)).")
    var journal: String?

    @Option(
        name: .customLong("restore-metrics"),
        help: "The progress textfile `neighsyncd restore --metrics` writes (default: \(DefaultPaths.restoreMetrics))."
    )
    var restoreMetrics: String?

    /// The file to show: a named one must exist (exit 2); a default one that does not is skipped
    /// (nil), since the daemon may run without it.
    static func fileToRead(named: String?, default path: String) throws -> String? {
        let file = named ?? path
        if FileManager.default.fileExists(atPath: file) { return file }
        guard named == nil else {
            printError("neighsyncd status: \(file) does not exist")
            throw ExitCode(2)
        }
        return nil
    }

    func run() throws {
        var shown = false
        if let path = try Self.fileToRead(named: metrics, default: DefaultPaths.metrics) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                printError("neighsyncd status: cannot read \(path)")
                throw ExitCode(2)
            }
            var values: [String: String] = [:]
            var phase = "unknown"
            var version = "unknown"
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                guard parts.count == 2 else { continue }
                let name = String(parts[0])
                // The value of a series' one label: `phase` in `neighsyncd_phase{phase="steady"}`.
                let label = name.split(separator: "\"").dropFirst().first.map(String.init)
                if name.hasPrefix("neighsyncd_phase{"), parts[1] == "1" { phase = label ?? phase }
                if name.hasPrefix("neighsyncd_build_info{") { version = label ?? version }
                values[name] = String(parts[1])
            }
            func v(_ n: String) -> String { values["neighsyncd_" + n] ?? "?" }
            let age = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date).map {
                Int(-$0.timeIntervalSinceNow)
            }
            print("version:      \(version)")
            print("phase:        \(phase)  (metrics written \(age.map { "\($0) s" } ?? "?") ago)")
            print(
                "entries:      desired \(v("desired_entries")), actual \(v("actual_entries")), pending "
                    + "\(v("pending_changes"))"
            )
            print(
                "redis:        \(v("redis_up") == "1" ? "up" : "down"), reconnects \(v("redis_reconnects_total")), "
                    + "errors \(v("redis_errors_total"))"
            )
            print(
                "kernel:       messages \(v("kernel_messages_total")), overruns \(v("netlink_overruns_total")), "
                    + "dumps (resyncs) \(v("dumps_total"))"
            )
            print(
                "batches:      written \(v("batches_written_total")), acknowledged "
                    + "\(v("batches_acknowledged_total")), failed \(v("batches_failed_total")); sets "
                    + "\(v("sets_total")), dels \(v("dels_total"))"
            )
            func kinds(_ n: String) -> String {
                DriftKind.allCases.map { "\($0.rawValue) \(v("\(n){kind=\"\($0.rawValue)\"}"))" }.joined(
                    separator: ", "
                )
            }
            print(
                "drift:        verifications \(v("verifications_total")) (keyspace "
                    + "\(v("keyspace_verifications_total"))), failed \(v("verify_failures_total")); "
                    + "found \(kinds("drift_found_total")); repaired \(kinds("drift_repaired_total"))"
            )
            shown = true
        }
        if let path = try Self.fileToRead(named: restoreMetrics, default: DefaultPaths.restoreMetrics) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let progress = RestoreProgress(parsing: text)
            else {
                printError("neighsyncd status: \(path) is not a restore progress textfile")
                throw ExitCode(2)
            }
            print("restore:      \(progress.summary)")
            shown = true
        }
        // Read-only: status never creates, migrates or converts a journal.
        if let journal = try Self.fileToRead(named: journal, default: DefaultPaths.journal) {
            do {
                let meta = try JournalReader(path: journal).metadata()
                func when(_ k: String) -> String {
                    guard let s = meta[k], let t = TimeInterval(s) else { return "never" }
                    return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: t))
                }
                print(
                    "journal:      \(journal): last batch \(meta["last_batch"] ?? "none"), last applied "
                        + "\(when("last_applied_at")), last dump \(when("last_dump_at"))"
                )
                shown = true
            } catch {
                // The journal's own error says what is wrong; the "nothing to show" hint would not.
                printError("neighsyncd status: \(error)")
                throw ExitCode(2)
            }
        }
        if !shown {
            printError(
                "neighsyncd status: nothing to show: neither \(DefaultPaths.metrics) nor "
                    + "\(DefaultPaths.journal) exists (pass --metrics and --journal as given to `run`)"
            )
            throw ExitCode(2)
        }
    }
}
