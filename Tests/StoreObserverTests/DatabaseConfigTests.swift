import Foundation
import StoreObserver
import Testing

/// `database_config.json` is outside input: numbers the connection hands to hiredis as C ints
/// are refused when they do not fit (found by FuzzDatabaseConfig: a port past Int32 trapped).
@Suite struct DatabaseConfigTests {
    static func config(port: String = "6379", id: String = "0") -> Data {
        Data(
            """
            {"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": \(port)}},
             "DATABASES": {"APPL_DB": {"id": \(id), "separator": ":", "instance": "redis"},
                           "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"},
                           "STATE_DB": {"id": 6, "separator": "|", "instance": "redis"}}}
            """.utf8
        )
    }

    @Test(arguments: ["0", "-1", "65536", "99999999999"])
    func aPortOutsideTheTCPRangeIsRefused(port: String) {
        #expect(throws: RedisError.self) { try DatabaseConfig(json: Self.config(port: port), source: "db.json") }
    }

    @Test(arguments: ["-1", "2147483648", "99999999999"])
    func aDatabaseIDThatIsNotACIntIsRefused(id: String) {
        #expect(throws: RedisError.self) { try DatabaseConfig(json: Self.config(id: id), source: "db.json") }
    }

    @Test func anOrdinaryConfigIsAccepted() throws {
        let c = try DatabaseConfig(json: Self.config(), source: "db.json")
        #expect(c["APPL_DB"]?.id == 0)
    }
}
