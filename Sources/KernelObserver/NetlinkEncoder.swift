import CNetlink
import Model

/// Builds rtnetlink neighbor messages as the kernel lays them out. Used to round-trip parsed
/// messages, to make malformed inputs in tests, and to build in-memory dumps for benchmarks.
public enum NetlinkEncoder {
    /// Appends one RTM_NEWNEIGH / RTM_DELNEIGH message (nlmsghdr, ndmsg, NDA_DST, NDA_LLADDR).
    public static func append(_ n: RawNeighbor, sequence: UInt32 = 0, flags: UInt16 = 0, to out: inout [UInt8]) {
        let start = out.count
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
        func pad() { while (out.count - start) % 4 != 0 { out.append(0) } }
        put(UInt32(0))   // length, patched below
        let type: UInt16 = switch n.type {
        case .newNeighbor: UInt16(RTM_NEWNEIGH)
        case .deleteNeighbor: UInt16(RTM_DELNEIGH)
        case .getNeighbor: UInt16(RTM_GETNEIGH)
        case .other(let t): t
        }
        put(type); put(flags); put(sequence); put(UInt32(0))
        out.append(n.family); out.append(0); put(UInt16(0))
        put(n.ifindex); put(n.state.rawValue); out.append(n.flags.rawValue); out.append(1)   // ndm_type RTN_UNICAST
        if let ip = n.destination {
            let bytes = ip.bytes
            put(UInt16(4 + bytes.count)); put(UInt16(NDA_DST)); out.append(contentsOf: bytes); pad()
        }
        switch n.linkLayerAddress {
        case .absent: break
        case .mac(let m):
            put(UInt16(10)); put(UInt16(NDA_LLADDR))
            for shift in stride(from: 40, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: m.rawValue >> UInt64(shift))) }
            pad()
        case .otherLength(let l):
            put(UInt16(4 + l)); put(UInt16(NDA_LLADDR)); out.append(contentsOf: repeatElement(0xAB, count: l)); pad()
        }
        let length = UInt32(out.count - start)
        withUnsafeBytes(of: length) { for (i, b) in $0.enumerated() { out[start + i] = b } }
    }
}
