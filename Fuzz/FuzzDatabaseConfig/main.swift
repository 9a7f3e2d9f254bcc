import CFuzzDriver
import Foundation
import StoreObserver

/// A `database_config.json`. Whatever it accepts must be connectable without a trap: the
/// connection converts a TCP port to the C `int` hiredis takes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDatabaseConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Data(UnsafeRawBufferPointer(start: data, count: size))
    guard let config = try? DatabaseConfig(json: input, source: "fuzz") else {
        return 0
    }
    for (name, d) in config.databases {
        if case .tcp(_, let port) = d.endpoint, Int32(exactly: port) == nil {
            fatalError(
                "database_config.json accepted for \(name) port \(port), which RedisConnection cannot pass to hiredis"
            )
        }
        _ = d.endpoint.description
    }
    return 0
}

exit(nsd_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { fuzzDatabaseConfig($0, $1) })
