import CFuzzDriver
import Foundation
import Model

/// A `sonic-db-dump` file, read both ways `neighsyncd reconcile` reads one: as APPL_DB (the
/// NEIGH_TABLE overlay and its checks) and as CONFIG_DB (the policy); then printed and read back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedisDump(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Data(UnsafeRawBufferPointer(start: data, count: size))
    guard let parsed = try? RedisDump.parse(input, source: "fuzz") else {
        return 0
    }
    for issue in parsed.issues { _ = issue.description }
    let content = NeighTableContent(appDB: parsed.values)
    for issue in content.snapshot(source: "fuzz").issues { _ = issue.description }
    _ = Policy(configDB: RedisDump.hashes(parsed.values))
    _ = try? RedisDump.parse(RedisDump.render(content.redisValues()), source: "rendered")
    return 0
}

exit(nsd_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { fuzzRedisDump($0, $1) })
