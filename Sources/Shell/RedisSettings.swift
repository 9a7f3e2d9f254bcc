import Model
import StoreObserver

/// CONFIG_DB and STATE_DB of a SONiC Redis, on connections of their own; a broken connection (one
/// that failed mid-reply) is replaced before its next use, never used again.
public final class RedisSettings: SettingsSource {
    private let databases: DatabaseConfig
    private let password: String?
    private let log: (LogLevel, String) -> Void
    private var configDB: RedisConnection?
    private var stateDB: RedisConnection?
    private var watcher: PolicyWatcher?
    public private(set) var reconnects = 0

    public init(databases: DatabaseConfig, password: String?, log: @escaping (LogLevel, String) -> Void) {
        self.databases = databases
        self.password = password
        self.log = log
    }

    public func startup() throws(RedisError) -> StartupSettings {
        let c = try healthy(&configDB, "CONFIG_DB")
        let s = try healthy(&stateDB, "STATE_DB")
        log(.notice, "connected: CONFIG_DB \(c.endpoint) db \(c.database), STATE_DB \(s.endpoint) db \(s.database)")
        let warm = WarmRestartStore(state: s, config: c)
        let begin = try warm.begin()
        let timer = try warm.reconcileTimer()
        let policy = try ConfigReader.policy(c)
        return StartupSettings(
            config: StartupConfig(warmStart: begin.warm, reconcileTimerSeconds: timer.seconds, policy: policy),
            restoreCount: begin.restoreCount,
            timerValid: timer.valid
        )
    }

    public func policy() throws(RedisError) -> Policy {
        try ConfigReader.policy(try healthy(&configDB, "CONFIG_DB"))
    }

    public func restoreFlagSet() throws(RedisError) -> Bool {
        let s = try healthy(&stateDB, "STATE_DB")
        let c = try healthy(&configDB, "CONFIG_DB")
        return try WarmRestartStore(state: s, config: c).restoreFlagSet()
    }

    public func setWarmRestartState(_ state: WarmRestartState) throws(RedisError) {
        let s = try healthy(&stateDB, "STATE_DB")
        let c = try healthy(&configDB, "CONFIG_DB")
        try WarmRestartStore(state: s, config: c).setState(state)
    }

    public func subscribe() throws(RedisError) -> Bool {
        if let w = watcher { return w.notificationsEnabled }
        let w = try PolicyWatcher(
            subscriber: try databases.connect("CONFIG_DB", password: password),
            database: databases["CONFIG_DB"]?.id ?? 4
        )
        watcher = w
        return w.notificationsEnabled
    }

    public var subscription: Int32? { watcher?.subscriber.fileDescriptor }

    public func loggerRow(writingAbsent defaults: [String: String]) throws(RedisError) -> LoggerRow.Reading {
        try LoggerRow.read(try healthy(&configDB, "CONFIG_DB"), writingAbsent: defaults)
    }

    public func configNotified() throws(RedisError) -> ConfigChange {
        guard let w = watcher else { return [] }
        do {
            return try w.changed()
        } catch {
            watcher = nil
            throw error
        }
    }

    private func healthy(_ connection: inout RedisConnection?, _ name: String) throws(RedisError) -> RedisConnection {
        if let c = connection, !c.broken { return c }
        let replacing = connection != nil
        connection = nil
        let fresh = try databases.connect(name, password: password)
        connection = fresh
        if replacing {
            reconnects += 1
            log(.notice, "\(name) reconnected")
        }
        return fresh
    }
}
