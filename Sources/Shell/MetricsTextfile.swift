import Files
import Model

/// The metrics textfile, rewritten every 5 s: mode 0644 whatever the umask (node_exporter reads it
/// as another user), never through a temp name someone could have placed a symlink at. A write that
/// keeps failing (a folder gone, a full disk) is logged when it starts failing and when it recovers,
/// not every 5 s.
public final class MetricsTextfile {
    public let path: String
    private var failing = false

    public init(path: String) { self.path = path }

    /// Writes `text`; the line to log, when the outcome differs from the last write's.
    public func write(_ text: String) -> (level: LogLevel, message: String)? {
        do {
            try AtomicFile.write(Array(text.utf8), to: path, mode: 0o644)
        } catch {
            if failing { return nil }
            failing = true
            return (.error, "writing metrics to \(path): \(error); retried every 5 s, logged again once it works")
        }
        guard failing else { return nil }
        failing = false
        return (.notice, "writing metrics to \(path) works again")
    }
}
