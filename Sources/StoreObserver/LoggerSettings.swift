/// How the daemon logs: a SONiC severity threshold and an output, as swss-common's logger keeps
/// them in CONFIG_DB `LOGGER|<daemon>` (`LOGLEVEL`, `LOGOUTPUT`).
public struct LoggerSettings: Hashable, Sendable {
    public var level: LogSeverity
    public var output: LogOutput

    public init(level: LogSeverity, output: LogOutput) {
        self.level = level
        self.output = output
    }

    /// The row's fields holding these settings, spelled as swss-common writes them.
    public var fields: [String: String] {
        [LoggerRow.levelField: level.name, LoggerRow.outputField: output.rawValue]
    }
}

/// SONiC's severities, most severe first; the raw value is the syslog priority (LOG_EMERG 0 …
/// LOG_DEBUG 7). A threshold lets through its own severity and every more severe one.
public enum LogSeverity: Int, CaseIterable, Comparable, Sendable {
    case emerg, alert, crit, error, warn, notice, info, debug

    /// swss-common's spelling (`Logger::priorityStringMap`), as `swssloglevel -l` takes it.
    public var name: String {
        switch self {
        case .emerg: "EMERG"
        case .alert: "ALERT"
        case .crit: "CRIT"
        case .error: "ERROR"
        case .warn: "WARN"
        case .notice: "NOTICE"
        case .info: "INFO"
        case .debug: "DEBUG"
        }
    }

    /// SONiC's names in any case, and the longer names this daemon took before (`warning`,
    /// `critical`, `emergency`, `err`).
    public init?(name: String) {
        let upper = name.uppercased()
        if let s = Self.allCases.first(where: { $0.name == upper }) {
            self = s
            return
        }
        switch upper {
        case "EMERGENCY": self = .emerg
        case "CRITICAL": self = .crit
        case "ERR": self = .error
        case "WARNING": self = .warn
        default: return nil
        }
    }

    public var syslogPriority: Int32 { Int32(rawValue) }

    /// More severe first: `.error < .warn`.
    public static func < (a: LogSeverity, b: LogSeverity) -> Bool { a.rawValue < b.rawValue }

    /// The names an operator may give, for help and error messages.
    public static let spellings = allCases.map(\.name).joined(separator: ", ")
}

/// Where log lines go, spelled as swss-common's `LOGOUTPUT` values.
public enum LogOutput: String, CaseIterable, Sendable {
    case syslog = "SYSLOG"
    case stdout = "STDOUT"
    case stderr = "STDERR"

    /// Any case: `syslog`, `STDERR`.
    public init?(name: String) { self.init(rawValue: name.uppercased()) }
}
