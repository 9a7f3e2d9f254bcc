import Foundation

/// SONiC's `database_config.json`: which Redis instance holds which database, and how.
public struct DatabaseConfig: Hashable, Sendable {
    public struct Database: Hashable, Sendable {
        public var id: Int
        public var separator: String
        public var endpoint: RedisEndpoint
    }

    public var databases: [String: Database]

    public static let defaultPath = "/var/run/redis/sonic-db/database_config.json"

    /// APPL_DB 0, CONFIG_DB 4, STATE_DB 6 on 127.0.0.1:6379 — used when there is no file.
    public static let fallback = DatabaseConfig(databases: [
        "APPL_DB": Database(id: 0, separator: ":", endpoint: .tcp(host: "127.0.0.1", port: 6379)),
        "CONFIG_DB": Database(id: 4, separator: "|", endpoint: .tcp(host: "127.0.0.1", port: 6379)),
        "STATE_DB": Database(id: 6, separator: "|", endpoint: .tcp(host: "127.0.0.1", port: 6379)),
    ])

    public init(databases: [String: Database]) { self.databases = databases }

    /// Parses the file. An instance's unix socket is preferred when it names one.
    public init(json data: Data, source: String) throws(RedisError) {
        guard let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let instances = top["INSTANCES"] as? [String: Any],
            let dbs = top["DATABASES"] as? [String: Any]
        else {
            throw RedisError(
                .configuration,
                "\(source): not a database_config.json (INSTANCES and DATABASES objects expected)"
            )
        }
        var out: [String: Database] = [:]
        for (name, value) in dbs {
            guard let d = value as? [String: Any], let id = d["id"] as? Int,
                let instanceName = d["instance"] as? String,
                let instance = instances[instanceName] as? [String: Any]
            else { throw RedisError(.configuration, "\(source): database \(name) lacks id or a known instance") }
            // SELECT and the channel names carry the id as a C int.
            guard (0...Int(Int32.max)).contains(id) else {
                throw RedisError(.configuration, "\(source): database \(name) has id \(id), not 0-\(Int32.max)")
            }
            let endpoint: RedisEndpoint
            if let path = instance["unix_socket_path"] as? String, !path.isEmpty {
                endpoint = .unix(path: path)
            } else if let host = instance["hostname"] as? String, let port = instance["port"] as? Int {
                // hiredis takes the port as a C int: a number past it would trap in the conversion.
                guard (1...65535).contains(port) else {
                    throw RedisError(
                        .configuration,
                        "\(source): instance \(instanceName) has port \(port), not 1-65535"
                    )
                }
                endpoint = .tcp(host: host, port: port)
            } else {
                throw RedisError(
                    .configuration,
                    "\(source): instance \(instanceName) has neither unix_socket_path nor hostname/port"
                )
            }
            out[name] = Database(id: id, separator: d["separator"] as? String ?? ":", endpoint: endpoint)
        }
        for required in ["APPL_DB", "CONFIG_DB", "STATE_DB"] where out[required] == nil {
            throw RedisError(.configuration, "\(source): no \(required)")
        }
        databases = out
    }

    /// Reads `path`; a missing file gives the fallback (the caller logs which one was used).
    public static func load(path: String) throws(RedisError) -> (config: DatabaseConfig, fromFile: Bool) {
        guard FileManager.default.fileExists(atPath: path) else { return (fallback, false) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RedisError(.configuration, "\(path): cannot read")
        }
        return (try DatabaseConfig(json: data, source: path), true)
    }

    public subscript(name: String) -> Database? { databases[name] }

    public func connect(
        _ name: String,
        password: String?,
        timeoutMilliseconds: Int = 5000
    ) throws(RedisError) -> RedisConnection {
        guard let d = databases[name] else { throw RedisError(.configuration, "no database \(name)") }
        return try RedisConnection(
            endpoint: d.endpoint,
            database: d.id,
            password: password,
            timeoutMilliseconds: timeoutMilliseconds
        )
    }
}
