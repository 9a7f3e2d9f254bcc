import Model
import Shell
import StoreObserver

/// CONFIG_DB and STATE_DB for the embedded runtime: answers from fields, or fails while `down`.
public final class FakeSettings: SettingsSource {
    public var startupSettings = StartupSettings(config: StartupConfig(warmStart: false))
    public var currentPolicy = Policy()
    public var restoreFlag = true
    public var down = false
    /// False: keyspace notifications "cannot be enabled", so the shell polls.
    public var notificationsEnabled = true
    /// CONFIG_DB `LOGGER|neighsyncd` (nil: the key is not a hash).
    public var logger: [String: String]? = [:]
    /// Set: writing the logger row's defaults is refused with this error (OOM, READONLY).
    public var loggerWriteRefusal: String?
    /// What the next read of the subscription reports; the embedded runtime reads it when not empty.
    public private(set) var pendingChange: ConfigChange = []
    public private(set) var warmRestartStates: [WarmRestartState] = []
    public private(set) var subscription: Int32?
    public let reconnects = 0

    public init() {}

    private func check() throws(RedisError) {
        if down { throw RedisError(.connect, "fake redis: connection refused") }
    }

    public func startup() throws(RedisError) -> StartupSettings {
        try check()
        return startupSettings
    }

    public func policy() throws(RedisError) -> Policy {
        try check()
        return currentPolicy
    }

    public func restoreFlagSet() throws(RedisError) -> Bool {
        try check()
        return restoreFlag
    }

    public func setWarmRestartState(_ s: WarmRestartState) throws(RedisError) {
        try check()
        warmRestartStates.append(s)
    }

    /// Nothing arrives unless a test changes something and says so (`setLogger`).
    public func subscribe() throws(RedisError) -> Bool {
        try check()
        return notificationsEnabled
    }

    public func configNotified() throws(RedisError) -> ConfigChange {
        try check()
        defer { pendingChange = [] }
        return pendingChange
    }

    public func loggerRow(writingAbsent defaults: [String: String]) throws(RedisError) -> LoggerRow.Reading {
        try check()
        guard var row = logger else { return LoggerRow.Reading(fields: nil) }
        let absent = defaults.filter { row[$0.key] == nil }
        if let refusal = loggerWriteRefusal, !absent.isEmpty {
            return LoggerRow.Reading(fields: row, writeRefused: refusal)
        }
        row.merge(absent) { $1 }
        logger = row
        return LoggerRow.Reading(fields: row)
    }

    /// `HSET LOGGER|neighsyncd …` as an operator (or `swssloglevel`) does it: notified.
    public func setLogger(_ fields: [String: String]) {
        logger = (logger ?? [:]).merging(fields) { $1 }
        pendingChange.insert(.logger)
    }
}
