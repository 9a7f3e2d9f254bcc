import CFuzzDriver
import Foundation
import Model

/// An `ip -j neigh show` file, as `neighsyncd reconcile --kernel` reads it; what parses is printed
/// back (the `snapshot` path) and read again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIPNeighJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Data(UnsafeRawBufferPointer(start: data, count: size))
    guard let parsed = try? IPNeighJSON.parse(input, source: "fuzz") else {
        return 0
    }
    for issue in parsed.issues { _ = issue.description }
    _ = try? IPNeighJSON.parse(IPNeighJSON.render(parsed.table), source: "rendered")
    return 0
}

exit(nsd_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { fuzzIPNeighJSON($0, $1) })
