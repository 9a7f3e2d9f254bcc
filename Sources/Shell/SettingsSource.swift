import Model
import StoreObserver

/// What start-up reads from STATE_DB and CONFIG_DB.
public struct StartupSettings: Sendable {
    public var config: StartupConfig
    /// Warm start: `WARM_RESTART_TABLE|neighsyncd restore_count` after this start.
    public var restoreCount: Int
    /// False when `neighsyncd_timer` was missing or out of range (the default is used).
    public var timerValid: Bool

    public init(config: StartupConfig, restoreCount: Int = 0, timerValid: Bool = true) {
        self.config = config
        self.restoreCount = restoreCount
        self.timerValid = timerValid
    }
}

/// CONFIG_DB and STATE_DB as the pollers use them: SONiC's databases (`RedisSettings`), or a
/// test's fake. Each call replaces a connection that broke before using it.
public protocol SettingsSource: AnyObject {
    /// Connects and reads the start-up settings (and counts a warm start's restore).
    func startup() throws(RedisError) -> StartupSettings
    /// The link-local, dual-ToR and EVPN settings.
    func policy() throws(RedisError) -> Policy
    /// Warm start: `NEIGH_RESTORE_TABLE|Flags restored` is `true`.
    func restoreFlagSet() throws(RedisError) -> Bool
    func setWarmRestartState(_ s: WarmRestartState) throws(RedisError)
    /// Subscribes to CONFIG_DB changes unless subscribed; false when keyspace notifications
    /// cannot be enabled (then the policy is polled).
    func subscribe() throws(RedisError) -> Bool
    /// The subscription's socket, while subscribed.
    var subscription: Int32? { get }
    /// Reads the subscription: what changed (the policy's tables, the logger row). Throws when it
    /// was lost (killed, or Redis restarted); it is then dropped, and `subscribe` makes a new one.
    func configNotified() throws(RedisError) -> ConfigChange
    /// CONFIG_DB `LOGGER|neighsyncd`, after writing the fields of `defaults` it lacks (at start).
    func loggerRow(writingAbsent defaults: [String: String]) throws(RedisError) -> LoggerRow.Reading
    /// Connections replaced since start (for metrics).
    var reconnects: Int { get }
}
