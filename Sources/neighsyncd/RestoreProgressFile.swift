import Files
import Foundation
import Logging
import Restorer
import Shell

/// `neighsyncd restore`'s progress textfile (`--metrics`): rewritten atomically after each pass
/// and at the end, as the daemon's metrics are, so node_exporter and `neighsyncd status` see it.
final class RestoreProgressFile {
    private let file: MetricsTextfile?
    private let log: Logger
    private let start = ContinuousClock.now
    var progress = RestoreProgress()

    /// No file when `path` is nil (`--no-metrics`).
    init(path: String?, log: Logger) {
        self.log = log
        if let path {
            do {
                try PrivateFolder.create((path as NSString).deletingLastPathComponent, mode: 0o755)
            } catch {
                log.error("restore progress textfile \(path): \(error); pass --metrics PATH or --no-metrics")
            }
        }
        file = path.map(MetricsTextfile.init(path:))
    }

    /// Writes where the restore stands (the total set before); a write that starts failing is
    /// logged once, as the daemon's.
    func write(_ phase: RestoreProgress.Phase, _ planner: RestorePlanner, refused: Int, probes: Int, passes: Int) {
        progress.phase = phase
        progress.waiting = planner.count
        progress.refused = refused
        progress.restored = max(0, progress.total - progress.waiting - refused)
        progress.probesSent = probes
        progress.passes = passes
        write()
    }

    /// Writes `progress` as it is, with the seconds brought up to now.
    func write() {
        progress.seconds = Int((ContinuousClock.now - start).components.seconds)
        guard let file, let (level, message) = file.write(progress.render()) else { return }
        if level == .error { log.error("restore: \(message)") } else { log.notice("restore: \(message)") }
    }
}
