/// CONFIG_DB `LOGGER|neighsyncd`, read as swss-common's logger reads its daemon's row: at start
/// the fields it lacks are written with the daemon's defaults (so `swssloglevel -c neighsyncd`
/// finds the component) and its values are used; later a change replaces the value it names.
public enum LoggerRow {
    public static let key = "LOGGER|neighsyncd"
    public static let levelField = "LOGLEVEL"
    public static let outputField = "LOGOUTPUT"
    /// What swss-common writes for a daemon's absent fields: its built-in defaults, never how one
    /// run was started (a terminal's DEBUG to stderr would stay in the row, and `config save` keep it).
    public static let defaults = LoggerSettings(level: .notice, output: .syslog).fields

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

    /// The row as read, and why the defaults could not be written, if they could not.
    public struct Reading: Hashable, Sendable {
        /// nil when the key holds something else than a hash (then nothing is written).
        public var fields: [String: String]?
        /// Redis refused the HSET (OOM, READONLY): the daemon runs on, with the row's values.
        public var writeRefused: String?

        public init(fields: [String: String]?, writeRefused: String? = nil) {
            self.fields = fields
            self.writeRefused = writeRefused
        }
    }

    /// Reads the row; the fields of `defaults` it lacks are written first (HSET of those alone,
    /// so a value an operator set is never overwritten).
    public static func read(
        _ c: RedisConnection,
        writingAbsent defaults: [String: String] = [:]
    ) throws(RedisError) -> Reading {
        guard var row = try hashes(c, [key])[key] ?? nil else { return Reading(fields: nil) }
        let absent = defaults.filter { row[$0.key] == nil }.sorted { $0.key < $1.key }
        guard !absent.isEmpty else { return Reading(fields: row) }
        let r = try c.command(["HSET", key] + absent.flatMap { [$0.key, $0.value] })
        if case .error(let message) = r { return Reading(fields: row, writeRefused: message) }
        for (field, value) in absent { row[field] = value }
        return Reading(fields: row)
    }
}
