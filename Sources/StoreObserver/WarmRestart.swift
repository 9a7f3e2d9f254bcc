import Model

/// SONiC's warm-restart keys for neighsyncd (spec §3, §5), in STATE_DB and CONFIG_DB.
public struct WarmRestartStore {
    public let state: RedisConnection
    public let config: RedisConnection
    public static let defaultTimerSeconds = 5

    public init(state: RedisConnection, config: RedisConnection) {
        self.state = state
        self.config = config
    }

    /// `WARM_RESTART_ENABLE_TABLE|system` and `|swss`: whether each `enable` == `true`.
    public func enabledScopes() throws(RedisError) -> (system: Bool, swss: Bool) {
        func enabled(_ scope: String) throws(RedisError) -> Bool {
            try state.command(["HGET", "WARM_RESTART_ENABLE_TABLE|\(scope)", "enable"]).string == "true"
        }
        return (try enabled("system"), try enabled("swss"))
    }

    /// `WARM_RESTART_ENABLE_TABLE|system` or `|swss` `enable` == `true`.
    public func isEnabled() throws(RedisError) -> Bool {
        let scopes = try enabledScopes()
        return scopes.system || scopes.swss
    }

    /// `WARM_RESTART_TABLE|neighsyncd restore_count`, or nil when missing. A count that cannot be
    /// incremented is no count: a cold start, as for any other bad text.
    public func restoreCount() throws(RedisError) -> Int? {
        guard let text = try state.command(["HGET", Self.tableKey, "restore_count"]).string,
            let n = Int(text), n < Int.max
        else { return nil }
        return n
    }

    /// What `checkWarmStart` writes on a cold start (also when warm restart is enabled but
    /// `restore_count` is missing).
    public func resetRestoreCount() throws(RedisError) {
        _ = try state.command(["HSET", Self.tableKey, "restore_count", "0"])
    }

    static let tableKey = "WARM_RESTART_TABLE|neighsyncd"

    /// `checkWarmStart`: a warm start needs the flag and an existing `restore_count`, which it
    /// increments; otherwise `restore_count` is written as 0. Returns whether this is a warm start.
    public func begin() throws(RedisError) -> (warm: Bool, restoreCount: Int) {
        if try isEnabled(), let n = try restoreCount() {
            _ = try state.command(["HSET", Self.tableKey, "restore_count", String(n + 1)])
            return (true, n + 1)
        }
        try resetRestoreCount()
        return (false, 0)
    }

    public func setState(_ s: WarmRestartState) throws(RedisError) {
        _ = try state.command(["HSET", Self.tableKey, "state", s.rawValue])
    }

    /// `WARM_RESTART|swss neighsyncd_timer`, parsed like `strtoul(…, 0)`; 1…9999 or the default.
    public func reconcileTimer() throws(RedisError) -> (seconds: Int, valid: Bool) {
        let text = try config.command(["HGET", "WARM_RESTART|swss", "neighsyncd_timer"]).string
        guard let v = text.flatMap(Self.parseUnsigned), (1...9999).contains(v) else {
            return (Self.defaultTimerSeconds, false)
        }
        return (v, true)
    }

    /// `strtoul` with base 0: decimal, `0x` hex, leading-`0` octal.
    static func parseUnsigned(_ s: String) -> Int? {
        let t = s.trimmingPrefixWhitespace()
        if t.hasPrefix("0x") || t.hasPrefix("0X") { return Int(t.dropFirst(2), radix: 16) }
        if t.count > 1 && t.hasPrefix("0") { return Int(t.dropFirst(), radix: 8) }
        return Int(t)
    }

    /// Sets `NEIGH_RESTORE_TABLE|Flags restored=true`, which the daemon waits for (what
    /// `neighsyncd restore` does once the kernel has its neighbors back).
    public func setRestoreFlag() throws(RedisError) {
        let reply = try state.command(["HSET", "NEIGH_RESTORE_TABLE|Flags", "restored", "true"])
        if case .error(let text) = reply { throw RedisError(.refused, "HSET NEIGH_RESTORE_TABLE|Flags: \(text)") }
    }

    /// `NEIGH_RESTORE_TABLE|Flags restored` == `true`.
    public func restoreFlagSet() throws(RedisError) -> Bool {
        try state.command(["HGET", "NEIGH_RESTORE_TABLE|Flags", "restored"]).string == "true"
    }
}

extension String {
    func trimmingPrefixWhitespace() -> Substring { self.drop { $0 == " " || $0 == "\t" } }
}
