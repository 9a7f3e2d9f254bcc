import Model
import Reconciler
import Shell
import ShellTesting
import StoreObserver
import Testing

/// CONFIG_DB `LOGGER|neighsyncd` followed by the production pollers, under the embedded runtime.
@Suite struct LoggerRowShellTests {
    static func runtime(_ settings: FakeSettings) -> EmbeddedRuntime {
        let kernel = FakeKernel(links: [FakeKernel.Link(index: 2, name: "Ethernet0")])
        return EmbeddedRuntime(
            seed: 7,
            config: ReconcilerConfig(batchSize: 8),
            kernel: kernel,
            redis: FakeRedisServer(),
            settings: settings
        )
    }

    static let debug = LoggerSettings(level: .debug, output: .stderr)

    @Test func theRowIsCreatedWithTheCommandLinesSettingsAtStart() {
        let settings = FakeSettings()
        settings.logger = nil  // not a hash: reported, nothing applied
        let rt = Self.runtime(settings)
        rt.run(for: 1_000_000_000)
        #expect(rt.logs.contains { $0.contains("LOGGER|neighsyncd is not a hash") })
        #expect(rt.loggingApplied.isEmpty)

        let fresh = FakeSettings()
        let rt2 = Self.runtime(fresh)
        rt2.run(for: 1_000_000_000)
        #expect(fresh.logger == ["LOGLEVEL": "NOTICE", "LOGOUTPUT": "STDERR"])
        #expect(rt2.loggingApplied.isEmpty)  // the row says what the command line said
    }

    @Test func theRowsValueWinsAtStart() {
        let settings = FakeSettings()
        settings.logger = ["LOGLEVEL": "debug"]
        let rt = Self.runtime(settings)
        rt.run(for: 1_000_000_000)
        #expect(rt.loggingApplied == [Self.debug])
        #expect(settings.logger == ["LOGLEVEL": "debug", "LOGOUTPUT": "STDERR"])
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
        let rt = Self.runtime(settings)
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
        let rt = Self.runtime(settings)
        rt.run(for: 1_000_000_000)
        settings.logger?["LOGLEVEL"] = "DEBUG"  // no notification
        rt.run(for: 11_000_000_000)
        #expect(rt.loggingApplied == [Self.debug])
    }
}
