import Glibc
import StoreObserver
import Testing

/// CONFIG_DB `LOGGER|neighsyncd` and SONiC's level names, as swss-common's logger has them.
@Suite struct LoggerRowTests {
    @Test func levelNamesAreSONiCsInAnyCase() {
        #expect(
            LogSeverity.allCases.map(\.name) == ["EMERG", "ALERT", "CRIT", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG"]
        )
        for s in LogSeverity.allCases {
            #expect(LogSeverity(name: s.name) == s)
            #expect(LogSeverity(name: s.name.lowercased()) == s)
        }
        #expect(LogSeverity(name: "Notice") == .notice)
        // The names this daemon took before, still taken.
        #expect(LogSeverity(name: "warning") == .warn)
        #expect(LogSeverity(name: "error") == .error)
        #expect(LogSeverity(name: "critical") == .crit)
        // SAI levels belong to syncd's components (`swssloglevel -s`), not to a daemon's row.
        #expect(LogSeverity(name: "SAI_LOG_LEVEL_DEBUG") == nil)
        #expect(LogSeverity(name: "") == nil)
        #expect(LogSeverity(name: "NOTICE ") == nil)
    }

    @Test func severitiesAreSyslogPriorities() {
        #expect(LogSeverity.emerg.syslogPriority == LOG_EMERG)
        #expect(LogSeverity.alert.syslogPriority == LOG_ALERT)
        #expect(LogSeverity.crit.syslogPriority == LOG_CRIT)
        #expect(LogSeverity.error.syslogPriority == LOG_ERR)
        #expect(LogSeverity.warn.syslogPriority == LOG_WARNING)
        #expect(LogSeverity.notice.syslogPriority == LOG_NOTICE)
        #expect(LogSeverity.info.syslogPriority == LOG_INFO)
        #expect(LogSeverity.debug.syslogPriority == LOG_DEBUG)
        #expect(LogSeverity.error < .warn)
    }

    @Test func outputNames() {
        #expect(LogOutput(name: "syslog") == .syslog)
        #expect(LogOutput(name: "STDERR") == .stderr)
        #expect(LogOutput(name: "Stdout") == .stdout)
        #expect(LogOutput(name: "file") == nil)
    }

    static let fallback = LoggerSettings(level: .info, output: .stderr)

    @Test func aFieldTheRowLacksKeepsTheFallback() {
        #expect(LoggerRow.settings([:], fallback: Self.fallback) == (Self.fallback, []))
        let levelOnly = LoggerRow.settings(["LOGLEVEL": "DEBUG"], fallback: Self.fallback)
        #expect(levelOnly.settings == LoggerSettings(level: .debug, output: .stderr))
        #expect(levelOnly.problems.isEmpty)
        let both = LoggerRow.settings(
            ["LOGLEVEL": "error", "LOGOUTPUT": "SYSLOG", "other": "x"],
            fallback: Self.fallback
        )
        #expect(both.settings == LoggerSettings(level: .error, output: .syslog))
    }

    /// swss-common: a level it does not know gives NOTICE, an output it does not know SYSLOG,
    /// each with an error line.
    @Test func aBadValueGivesSwssCommonsDefaultAndAProblem() {
        let r = LoggerRow.settings(["LOGLEVEL": "LOUD\n", "LOGOUTPUT": "file"], fallback: Self.fallback)
        #expect(r.settings == LoggerSettings(level: .notice, output: .syslog))
        #expect(r.problems.count == 2)
        #expect(r.problems.first?.contains("LOGLEVEL \"LOUD\n\" is not one of EMERG") == true)
        #expect(r.problems.last?.contains("LOGOUTPUT \"file\" is not SYSLOG, STDOUT or STDERR") == true)
    }

    @Test func startWritesOnlyTheFieldsTheRowLacks() throws {
        let server = try RedisServer()
        let c = try server.connect(4)
        let defaults = LoggerRow.defaults
        #expect(try LoggerRow.read(c, writingAbsent: defaults).fields == ["LOGLEVEL": "NOTICE", "LOGOUTPUT": "SYSLOG"])
        #expect(try c.command(["HGET", "LOGGER|neighsyncd", "LOGOUTPUT"]).string == "SYSLOG")
        // An operator's value is never overwritten by a start.
        _ = try c.command(["HDEL", "LOGGER|neighsyncd", "LOGOUTPUT"])
        _ = try c.command(["HSET", "LOGGER|neighsyncd", "LOGLEVEL", "DEBUG"])
        #expect(try LoggerRow.read(c, writingAbsent: defaults).fields == ["LOGLEVEL": "DEBUG", "LOGOUTPUT": "SYSLOG"])
        #expect(try c.command(["HGET", "LOGGER|neighsyncd", "LOGLEVEL"]).string == "DEBUG")
        // Later reads write nothing.
        _ = try c.command(["DEL", "LOGGER|neighsyncd"])
        #expect(try LoggerRow.read(c) == LoggerRow.Reading(fields: [:]))
        #expect(try c.command(["EXISTS", "LOGGER|neighsyncd"]).integer == 0)
    }

    @Test func aKeyThatIsNotAHashIsReportedAndLeftAlone() throws {
        let server = try RedisServer()
        let c = try server.connect(4)
        _ = try c.command(["SET", "LOGGER|neighsyncd", "DEBUG"])
        #expect(try LoggerRow.read(c, writingAbsent: ["LOGLEVEL": "NOTICE"]) == LoggerRow.Reading(fields: nil))
        #expect(try c.command(["GET", "LOGGER|neighsyncd"]).string == "DEBUG")
    }

    /// Redis out of memory at start: the daemon must start all the same, with the row's values.
    @Test func aRefusedWriteOfTheDefaultsIsReportedNotThrown() throws {
        let server = try RedisServer()
        let c = try server.connect(4)
        _ = try c.command(["HSET", "LOGGER|neighsyncd", "LOGLEVEL", "INFO"])
        _ = try c.command(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
        _ = try c.command(["CONFIG", "SET", "maxmemory", "1"])
        let r = try LoggerRow.read(c, writingAbsent: ["LOGLEVEL": "NOTICE", "LOGOUTPUT": "SYSLOG"])
        #expect(r.fields == ["LOGLEVEL": "INFO"])
        #expect(r.writeRefused?.hasPrefix("OOM") == true)
    }

    /// `swssloglevel -l DEBUG -c neighsyncd` is an HSET of the row: the subscription the policy
    /// already has reports it as a logger change, and another daemon's row not at all.
    @Test func theSubscriptionReportsALoggerChange() throws {
        let server = try RedisServer()
        let config = try server.connect(4)
        let watcher = try PolicyWatcher(subscriber: try server.connect(4), database: 4)
        _ = try config.command(["HSET", "LOGGER|orchagent", "LOGLEVEL", "DEBUG"])
        _ = try config.command(["HSET", "LOGGER|neighsyncd", "LOGLEVEL", "DEBUG"])
        var change: ConfigChange = []
        var p = pollfd(fd: watcher.subscriber.fileDescriptor, events: Int16(POLLIN), revents: 0)
        for _ in 0..<10 where !change.contains(.logger) {
            #expect(poll(&p, 1, 2000) == 1)
            change.formUnion(try watcher.changed())
        }
        #expect(change == .logger)
    }
}
