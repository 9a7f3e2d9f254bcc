import Model
import Shell
import StoreObserver

/// CONFIG_DB and STATE_DB for the embedded runtime: answers from fields, or fails while `down`.
public final class FakeSettings: SettingsSource {
    public var startupSettings = StartupSettings(config: StartupConfig(warmStart: false))
    public var currentPolicy = Policy()
    public var restoreFlag = true
    public var down = false
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

    /// Notifications "enabled": nothing arrives unless a test changes the policy and calls in.
    public func subscribe() throws(RedisError) -> Bool {
        try check()
        return true
    }

    public func policyNotified() throws(RedisError) -> Bool {
        try check()
        return false
    }
}
