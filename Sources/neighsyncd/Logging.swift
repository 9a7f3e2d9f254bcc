import Dispatch
import Foundation
import Glibc
import Logging
import Model

/// Log lines leave the event loop through a bounded queue drained by a writer thread, so a
/// burst of decisions never stalls netlink reads. When the queue is full, lines are dropped
/// and counted (and the count is logged once the queue drains).
final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(Int32, String)] = []
    private var dropped = 0
    private let capacity: Int
    private let wake = DispatchSemaphore(value: 0)
    private let syslog: Bool
    private(set) var droppedTotal = 0

    init(capacity: Int = 100_000, syslog: Bool) {
        self.capacity = capacity
        self.syslog = syslog
        if syslog { openlog("neighsyncd", LOG_PID, LOG_DAEMON) }
        let t = Thread { [unowned self] in self.drainForever() }
        t.name = "log-writer"
        t.start()
    }

    func submit(_ priority: Int32, _ line: String) {
        lock.lock()
        if lines.count >= capacity {
            dropped += 1
            droppedTotal += 1
            lock.unlock()
            return
        }
        lines.append((priority, line))
        lock.unlock()
        wake.signal()
    }

    /// Waits until everything queued is written (at exit).
    func flush() {
        for _ in 0..<200 {
            lock.lock()
            let empty = lines.isEmpty
            lock.unlock()
            if empty { return }
            usleep(5_000)
        }
    }

    private func drainForever() {
        while true {
            wake.wait()
            lock.lock()
            let batch = lines
            lines = []  // a burst's capacity is not kept
            let lost = dropped
            dropped = 0
            lock.unlock()
            var out = ""
            for (p, raw) in batch {
                // Messages quote kernel, Redis and file data: escaped here, no line can end early
                // or forge another, whichever code composed it.
                let l = raw.escapedForLog
                out += l + "\n"
                if syslog { withVaList([l]) { vsyslog(p, "%s", $0) } }
            }
            if lost > 0 { out += "neighsyncd: \(lost) log lines dropped (log output too slow)\n" }
            FileHandle.standardError.write(Data(out.utf8))
        }
    }
}

/// swift-log handler feeding the sink.
struct SinkLogHandler: LogHandler {
    let sink: LogSink
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let priority: Int32 =
            switch level {
            case .trace, .debug: LOG_DEBUG
            case .info: LOG_INFO
            case .notice: LOG_NOTICE
            case .warning: LOG_WARNING
            case .error: LOG_ERR
            case .critical: LOG_CRIT
            }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var tm = tm()
        var secs = ts.tv_sec
        gmtime_r(&secs, &tm)
        let stamp = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            tm.tm_year + 1900,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec,
            ts.tv_nsec / 1_000_000
        )
        sink.submit(priority, "\(stamp) \(level.rawValue.uppercased()) \(message)")
    }
}

extension Logger.Level {
    init(_ l: LogLevel) {
        self =
            switch l {
            case .debug: .debug
            case .info: .info
            case .notice: .notice
            case .warning: .warning
            case .error: .error
            }
    }
}
