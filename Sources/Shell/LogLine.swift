import Foundation
import Model
import StoreObserver

/// How a log line reads once written: put together on the log writer thread, never on the event
/// loop. Syslog gets the body alone (syslog stamps it and carries the priority); stderr and
/// stdout get a UTC timestamp and SONiC's level name before it.
public enum LogLine {
    /// The message, then `key=value` for each metadata entry, sorted by key. Messages and values
    /// quote kernel, Redis and file data: escaped here, so no line can end early or forge another,
    /// whichever code composed it. A value holding a space or a quote (or empty) is quoted.
    public static func body(_ message: String, metadata: [String: String]) -> String {
        var out = message.escapedForLog
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            let text = value.escapedForLog
            let plain = !text.isEmpty && !text.contains(" ") && !text.contains("\"")
            out +=
                " \(key.escapedForLog)=" + (plain ? text : "\"\(text.replacingOccurrences(of: "\"", with: "\\\""))\"")
        }
        return out
    }

    /// `2026-12-02T04:40:18.123Z NOTICE body` and a newline.
    public static func stamped(_ body: String, severity: LogSeverity, seconds: Int, milliseconds: Int) -> String {
        var t = tm()
        var secs = seconds
        gmtime_r(&secs, &t)
        let stamp = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            t.tm_year + 1900,
            t.tm_mon + 1,
            t.tm_mday,
            t.tm_hour,
            t.tm_min,
            t.tm_sec,
            milliseconds
        )
        return "\(stamp) \(severity.name) \(body)\n"
    }
}
