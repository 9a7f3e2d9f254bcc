import Model

/// What a CONFIG_DB notification says changed.
public struct ConfigChange: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// A table the policy is read from (`ConfigReader.tables`).
    public static let policy = ConfigChange(rawValue: 1)
    /// The daemon's own `LOGGER|neighsyncd` row.
    public static let logger = ConfigChange(rawValue: 2)
}

/// Keeps the policy and the logger row current from CONFIG_DB keyspace notifications, on a
/// connection of its own. Never a Redis read per kernel event: the policy is read once, then
/// re-read when a watched table changes (or, where notifications cannot be enabled, on a period
/// the shell runs).
public final class PolicyWatcher {
    public let subscriber: RedisConnection
    public let database: Int
    /// False when keyspace notifications could not be enabled: poll `ConfigReader.policy` instead.
    public let notificationsEnabled: Bool
    /// The logger row's key, as a pattern without wildcards (`LOGGER|neighsyncd` has none).
    private let loggerPattern: String

    /// `subscriber` must be a fresh connection; it is put in subscribe mode.
    public init(subscriber: RedisConnection, database: Int) throws(RedisError) {
        self.subscriber = subscriber
        self.database = database
        notificationsEnabled = Self.enableKeyspaceEvents(subscriber)
        loggerPattern = "__keyspace@\(database)__:\(LoggerRow.key)"
        let patterns = ConfigReader.tables.map { "__keyspace@\(database)__:\($0)|*" } + [loggerPattern]
        try subscriber.append(["PSUBSCRIBE"] + patterns)
        for _ in patterns {
            let r = try subscriber.reply()
            guard r.array?.first?.string == "psubscribe" else { throw RedisError(.reply, "PSUBSCRIBE: \(r)") }
        }
    }

    /// Makes sure keyspace (K) events for hashes (h) and generic commands (g: DEL, RENAME) are on.
    static func enableKeyspaceEvents(_ c: RedisConnection) -> Bool {
        guard let current = (try? c.command(["CONFIG", "GET", "notify-keyspace-events"]))?.array?.last?.string else {
            return false
        }
        let hasAll = current.contains("A")
        if current.contains("K") && (hasAll || (current.contains("g") && current.contains("h"))) { return true }
        var flags = Set(current)
        flags.formUnion(["K", "g", "h"])
        let r = try? c.command(["CONFIG", "SET", "notify-keyspace-events", String(flags.sorted())])
        return r?.string == "OK"
    }

    /// Call when the subscriber socket is readable: what changed (empty: nothing watched).
    public func changed() throws(RedisError) -> ConfigChange {
        var change: ConfigChange = []
        for message in try subscriber.readAvailable() {
            // ["pmessage", pattern, channel, event]
            guard let parts = message.array, parts.first?.string == "pmessage" else { continue }
            change.insert(parts.count > 1 && parts[1].string == loggerPattern ? .logger : .policy)
        }
        return change
    }
}
