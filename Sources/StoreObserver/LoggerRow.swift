/// CONFIG_DB `LOGGER|neighsyncd`, read as swss-common's logger reads its daemon's row: at start
/// the fields it lacks are written with the daemon's defaults (so `swssloglevel -c neighsyncd`
/// finds the component) and its values are used; later a change replaces the value it names.
public enum LoggerRow {
    public static let key = "LOGGER|neighsyncd"
    public static let levelField = "LOGLEVEL"
    public static let outputField = "LOGOUTPUT"

    /// The settings a row holds. A field it lacks keeps `fallback`'s value; a value that is not a
    /// level (or an output) gives NOTICE (or SYSLOG), as swss-common does, and a problem to log.
    public static func settings(
        _ row: [String: String],
        fallback: LoggerSettings
    ) -> (settings: LoggerSettings, problems: [String]) {
        var s = fallback
        var problems: [String] = []
        if let name = row[levelField] {
            if let level = LogSeverity(name: name) {
                s.level = level
            } else {
                s.level = .notice
                problems.append(
                    "\(key) \(levelField) \"\(name)\" is not one of \(LogSeverity.spellings); using NOTICE"
                )
            }
        }
        if let name = row[outputField] {
            if let output = LogOutput(name: name) {
                s.output = output
            } else {
                s.output = .syslog
                problems.append("\(key) \(outputField) \"\(name)\" is not SYSLOG, STDOUT or STDERR; using SYSLOG")
            }
        }
        return (s, problems)
    }

    /// Reads the row; the fields of `defaults` it lacks are written first (HSET of those alone,
    /// so a value an operator set is never overwritten). Returns the row as it now is; nil when
    /// the key holds something else than a hash (then nothing is written).
    public static func read(
        _ c: RedisConnection,
        writingAbsent defaults: [String: String] = [:]
    ) throws(RedisError) -> [String: String]? {
        guard var row = try hashes(c, [key])[key] ?? nil else { return nil }
        let absent = defaults.filter { row[$0.key] == nil }.sorted { $0.key < $1.key }
        if !absent.isEmpty {
            let r = try c.command(["HSET", key] + absent.flatMap { [$0.key, $0.value] })
            if case .error(let message) = r { throw RedisError(.reply, "HSET \(key): \(message)") }
            for (field, value) in absent { row[field] = value }
        }
        return row
    }
}
