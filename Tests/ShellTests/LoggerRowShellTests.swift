import Model
import Reconciler
import Shell
import ShellTesting
import StoreObserver
import Testing

/// CONFIG_DB `LOGGER|neighsyncd` followed by the production pollers, under the embedded runtime.
@Suite struct LoggerRowShellTests {
    /// The embedded runtime's command line logs NOTICE to stderr; `given`: the fields it gave.
    static func runtime(_ settings: FakeSettings, given: Set<String> = []) -> EmbeddedRuntime {
        let kernel = FakeKernel(links: [FakeKernel.Link(index: 2, name: "Ethernet0")])
        return EmbeddedRuntime(
            seed: 7,
            config: ReconcilerConfig(batchSize: 8),
            kernel: kernel,
            redis: FakeRedisServer(),
            settings: settings,
            loggingGiven: given
        )
    }

    static let debug = LoggerSettings(level: .debug, output: .stderr)
    static let output: Set<String> = [LoggerRow.outputField]

    @Test func theRowIsCreatedWithSONiCsDefaultsAtStart() {
        let settings = FakeSettings()
        settings.logger = nil  // not a hash: reported, nothing applied
        let rt = Self.runtime(settings)
        rt.run(for: 1_000_000_000)
        #expect(rt.logs.contains { $0.contains("LOGGER|neighsyncd is not a hash") })
        #expect(rt.loggingApplied.isEmpty)

        // Never the command line's settings: one run from a terminal would leave STDERR (or DEBUG)
        // in the row for every later start under supervisord.
        let fresh = FakeSettings()
        let rt2 = Self.runtime(fresh)
        rt2.run(for: 1_000_000_000)
        #expect(fresh.logger == ["LOGLEVEL": "NOTICE", "LOGOUTPUT": "SYSLOG"])
        #expect(rt2.loggingApplied == [LoggerSettings(level: .notice, output: .syslog)])
    }

    /// A field given on the command line keeps its value at start whatever the row says, until the
    /// row's value for it changes; the others follow the row from the start.
    @Test func theCommandLineWinsAtStartAndTheRowsChangesAfter() {
        let settings = FakeSettings()
        settings.logger = ["LOGLEVEL": "DEBUG", "LOGOUTPUT": "STDOUT"]
        let rt = Self.runtime(settings, given: Self.output)
        rt.run(for: 1_000_000_000)
        #expect(rt.loggingApplied == [Self.debug])  // the level from the row, stderr from the command line
        settings.setLogger(["LOGLEVEL": "DEBUG", "LOGOUTPUT": "SYSLOG"])
        rt.run(for: 1_000_000)
        #expect(rt.loggingApplied == [Self.debug, LoggerSettings(level: .debug, output: .syslog)])
    }

    @Test func theRowsValueWinsAtStart() {
        let settings = FakeSettings()
        settings.logger = ["LOGLEVEL": "debug"]
        let rt = Self.runtime(settings)
        rt.run(for: 1_000_000_000)
        #expect(rt.loggingApplied == [LoggerSettings(level: .debug, output: .syslog)])
        #expect(settings.logger == ["LOGLEVEL": "debug", "LOGOUTPUT": "SYSLOG"])
    }

    /// Redis refuses the defaults (OOM): a warning, and the daemon starts on the row's values.
    @Test func aRefusedWriteOfTheDefaultsDoesNotStopTheStart() {
        let settings = FakeSettings()
        settings.logger = ["LOGLEVEL": "DEBUG"]
        settings.loggerWriteRefusal = "OOM command not allowed when used memory > 'maxmemory'."
        let rt = Self.runtime(settings)
        rt.run(for: 1_000_000_000)
        #expect(rt.state.phase == .steady, "\(rt.logs)")
        #expect(rt.loggingApplied == [Self.debug])
        #expect(
            rt.logs.contains { $0.hasPrefix("warning: CONFIG_DB LOGGER|neighsyncd: writing its defaults was refused") }
        )
    }

    /// `swssloglevel -l DEBUG -c neighsyncd` while running: applied at once, without a restart and
    /// without the core hearing of it (no policy re-read).
    @Test func aChangeArrivesLive() {
        let settings = FakeSettings()
        let rt = Self.runtime(settings, given: Self.output)
        rt.run(for: 1_000_000_000)
        #expect(rt.state.phase == .steady, "\(rt.logs)")
        let policyReads = rt.trace.count { if case .policyChanged = $0.0 { true } else { false } }
        settings.setLogger(["LOGLEVEL": "DEBUG"])
        rt.run(for: 1_000_000)
        #expect(rt.loggingApplied == [Self.debug])
        #expect(rt.logs.contains("notice: log level DEBUG, output STDERR (CONFIG_DB LOGGER|neighsyncd)"))
        #expect(rt.trace.count { if case .policyChanged = $0.0 { true } else { false } } == policyReads)
        // A value swss-common does not know: NOTICE, as it does, and an error naming it.
        settings.setLogger(["LOGLEVEL": "LOUD"])
        rt.run(for: 1_000_000)
        #expect(rt.loggingApplied == [Self.debug, LoggerSettings(level: .notice, output: .stderr)])
        #expect(rt.logs.contains { $0.hasPrefix("error: CONFIG_DB LOGGER|neighsyncd LOGLEVEL \"LOUD\"") })
        // The row notified again unchanged: nothing logged, nothing applied.
        let lines = rt.logs.count
        settings.setLogger(["LOGLEVEL": "LOUD"])
        rt.run(for: 1_000_000)
        #expect(rt.logs.count == lines)
        #expect(rt.loggingApplied.count == 2)
    }

    /// Where keyspace notifications cannot be enabled the policy is polled: the row with it.
    @Test func withoutNotificationsTheRowIsPolled() {
        let settings = FakeSettings()
        settings.notificationsEnabled = false
        let rt = Self.runtime(settings, given: Self.output)
        rt.run(for: 1_000_000_000)
        settings.logger?["LOGLEVEL"] = "DEBUG"  // no notification
        rt.run(for: 11_000_000_000)
        #expect(rt.loggingApplied == [Self.debug])
    }
}
