import Model

/// Keeps the policy current from CONFIG_DB keyspace notifications, on a connection of its own.
/// Never a Redis read per kernel event: the policy is read once, then re-read when a watched
/// table changes (or, where notifications cannot be enabled, on a period the shell runs).
public final class PolicyWatcher {
    public let subscriber: RedisConnection
    public let database: Int
    /// False when keyspace notifications could not be enabled: poll `ConfigReader.policy` instead.
    public let notificationsEnabled: Bool

    /// `subscriber` must be a fresh connection; it is put in subscribe mode.
    public init(subscriber: RedisConnection, database: Int) throws(RedisError) {
        self.subscriber = subscriber
        self.database = database
        notificationsEnabled = Self.enableKeyspaceEvents(subscriber)
        let patterns = ConfigReader.tables.map { "__keyspace@\(database)__:\($0)|*" }
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

    /// Call when the subscriber socket is readable: true when a watched table changed.
    public func changed() throws(RedisError) -> Bool {
        try subscriber.readAvailable().contains { $0.array?.first?.string == "pmessage" }
    }
}
