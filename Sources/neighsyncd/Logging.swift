import Dispatch
import Foundation
import Glibc
import Logging
import Model
import Shell
import StoreObserver
import Synchronization

/// A log line as its caller gave it. The timestamp, level name, metadata and escaping are put
/// together on the writer thread, never on the event loop.
struct LogRecord: Sendable {
    var level: Logger.Level
    var message: Logger.Message
    var metadata: Logger.Metadata
    /// Where the line goes: the output in force when it was logged.
    var output: LogOutput
    var seconds: Int
    var milliseconds: Int
}

/// Log lines leave the event loop through a bounded queue drained by a writer thread, so a
/// burst of decisions never stalls netlink reads. When the queue is full, lines are dropped
/// and counted (and the count is logged once the queue drains). One output at a time: syslog
/// (identifier `neighsyncd`, facility user, as swss daemons log), stdout or stderr; the level and
/// the output change while running (CONFIG_DB `LOGGER|neighsyncd`).
final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [LogRecord] = []
    private var dropped = 0
    /// The writer holds a batch taken from `records` and has not finished writing it.
    private var writing = false
    /// stdout or stderr refused a write (a closed pipe, a closed descriptor): reported once, in syslog.
    private var streamFailed = false
    private let capacity: Int
    private let wake = DispatchSemaphore(value: 0)
    private let thresholdIndex: Atomic<Int>
    private let outputIndex: Atomic<Int>
    private(set) var droppedTotal = 0
    /// openlog keeps this pointer: it must outlive every syslog call (the sink lives as long as
    /// the process; the string is never freed).
    private let identifier = strdup("neighsyncd")

    init(capacity: Int = 100_000, settings: LoggerSettings) {
        self.capacity = capacity
        thresholdIndex = Atomic(Self.index(Self.threshold(settings.level)))
        outputIndex = Atomic(LogOutput.allCases.firstIndex(of: settings.output) ?? 0)
        // No LOG_PID, facility user: the form swss-common's daemons log in (they never call
        // openlog), so an operator's filters for `neighsyncd:` keep working.
        openlog(identifier, 0, LOG_USER)
        let t = Thread { [unowned self] in self.drainForever() }
        t.name = "log-writer"
        t.start()
    }

    /// The message as one C string argument: never as a format, and never a Swift String passed
    /// as a C variadic argument (not a C string).
    private static func syslog(_ priority: Int32, _ text: String) {
        text.withCString { c in withVaList([c]) { vsyslog(priority, "%s", $0) } }
    }

    /// The least severe level logged: read by every logger on every call.
    var level: Logger.Level { Logger.Level.allCases[thresholdIndex.load(ordering: .relaxed)] }

    var output: LogOutput { LogOutput.allCases[outputIndex.load(ordering: .relaxed)] }

    /// Takes new settings at once, for every logger sharing this sink (any thread may call).
    func apply(_ settings: LoggerSettings) {
        thresholdIndex.store(Self.index(Self.threshold(settings.level)), ordering: .relaxed)
        outputIndex.store(LogOutput.allCases.firstIndex(of: settings.output) ?? 0, ordering: .relaxed)
    }

    private static func index(_ level: Logger.Level) -> Int { Logger.Level.allCases.firstIndex(of: level) ?? 0 }

    /// SONiC's EMERG, ALERT and CRIT all mean "critical only" (swift-log's most severe level);
    /// DEBUG lets everything through.
    static func threshold(_ s: LogSeverity) -> Logger.Level {
        switch s {
        case .emerg, .alert, .crit: .critical
        case .error: .error
        case .warn: .warning
        case .notice: .notice
        case .info: .info
        case .debug: .trace
        }
    }

    func submit(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let record = LogRecord(
            level: level,
            message: message,
            metadata: metadata,
            output: output,
            seconds: ts.tv_sec,
            milliseconds: ts.tv_nsec / 1_000_000
        )
        lock.lock()
        if records.count >= capacity {
            dropped += 1
            droppedTotal += 1
            lock.unlock()
            return
        }
        records.append(record)
        lock.unlock()
        wake.signal()
    }

    /// Waits until everything queued is written (at exit), the batch being written included.
    func flush() {
        for _ in 0..<200 {
            lock.lock()
            let done = records.isEmpty && !writing
            lock.unlock()
            if done { return }
            usleep(5_000)
        }
    }

    private func drainForever() {
        while true {
            wake.wait()
            lock.lock()
            let batch = records
            records = []  // a burst's capacity is not kept
            let lost = dropped
            dropped = 0
            writing = true
            lock.unlock()
            defer {
                lock.lock()
                writing = false
                lock.unlock()
            }
            var stdout = ""
            var stderr = ""
            for r in batch {
                switch r.output {
                case .syslog: Self.syslog(r.severity.syslogPriority, r.body)
                case .stdout: stdout += r.stamped
                case .stderr: stderr += r.stamped
                }
            }
            if lost > 0 {
                let line = "neighsyncd: \(lost) log lines dropped (log output too slow)"
                switch output {
                case .syslog: Self.syslog(LOG_WARNING, line)
                case .stdout: stdout += line + "\n"
                case .stderr: stderr += line + "\n"
                }
            }
            write(stdout, to: STDOUT_FILENO, "stdout")
            write(stderr, to: STDERR_FILENO, "stderr")
        }
    }

    /// Writes all of `text`, or gives up on the first error. Never Foundation's FileHandle.write,
    /// which stops the process on an error: a pipe whose reader went away (EPIPE: SIGPIPE is
    /// taken by the signalfd) or a closed descriptor costs the lines, not the daemon. The first
    /// failure is said in syslog, the one output left.
    private func write(_ text: String, to fd: Int32, _ name: String) {
        guard !text.isEmpty else { return }
        var failure: Int32?
        text.utf8CString.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            let total = buffer.count - 1  // without the terminating NUL
            while offset < total {
                let n = Glibc.write(fd, base + offset, total - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    failure = n < 0 ? errno : EIO
                    return
                }
                offset += n
            }
        }
        guard let failure, !streamFailed else { return }
        streamFailed = true
        Self.syslog(
            LOG_ERR,
            "neighsyncd: writing the log to \(name) failed (\(String(cString: strerror(failure)))); lines for it "
                + "are lost (said once; CONFIG_DB LOGGER|neighsyncd LOGOUTPUT picks another output)"
        )
    }
}

extension LogRecord {
    /// Metadata values are described here, on the writer thread.
    var body: String { LogLine.body(message.description, metadata: metadata.mapValues { "\($0)" }) }

    var stamped: String {
        LogLine.stamped(body, severity: severity, seconds: seconds, milliseconds: milliseconds)
    }

    var severity: LogSeverity {
        switch level {
        case .trace, .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warn
        case .error: .error
        case .critical: .crit
        }
    }
}

/// swift-log handler feeding the sink. Its level is the sink's, so a change of CONFIG_DB
/// `LOGGER|neighsyncd` reaches every logger at once; setting it on one logger changes them all.
struct SinkLogHandler: LogHandler {
    let sink: LogSink
    var metadata: Logger.Metadata = [:]

    var logLevel: Logger.Level {
        get { sink.level }
        set {}  // one level for the process: CONFIG_DB's, or the command line's until it is read
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        if let error = event.error { all["error"] = "\(error)" }
        sink.submit(event.level, event.message, all)
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
