import CFuzzDriver
import Glibc
import KernelObserver
import Model

/// A netlink datagram as the kernel socket would hand it over: every item parsed, links applied
/// to a link table and each neighbor's interface looked up, as `KernelObserver.drain` does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetlink(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var links = LinkTable()
    NetlinkParser.forEachItem(in: UnsafeRawBufferPointer(start: data, count: size)) { item in
        switch item {
        case .link(let l, _): links.apply(l)
        case .neighbor(let n, _): _ = (links.name(of: n.ifindex), links.master(of: n.ifindex))
        case .malformed(let e): _ = e.description
        case .done, .error, .skipped: break
        }
    }
    return 0
}

exit(nsd_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { fuzzNetlink($0, $1) })
