import CNetlink
import Model

/// Builds rtnetlink neighbor messages as the kernel lays them out: the restorer's RTM_NEWNEIGH
/// requests (a production path), and in tests and benchmarks round-tripped, malformed and
/// in-memory dump messages.
public enum NetlinkEncoder {
    /// Appends one RTM_NEWNEIGH / RTM_DELNEIGH message (nlmsghdr, ndmsg, NDA_DST, NDA_LLADDR).
    public static func append(_ n: RawNeighbor, sequence: UInt32 = 0, flags: UInt16 = 0, to out: inout [UInt8]) {
        let start = out.count
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
        func pad() { while (out.count - start) % 4 != 0 { out.append(0) } }
        put(UInt32(0))  // length, patched below
        let type: UInt16 =
            switch n.type {
            case .newNeighbor: UInt16(RTM_NEWNEIGH)
            case .deleteNeighbor: UInt16(RTM_DELNEIGH)
            case .getNeighbor: UInt16(RTM_GETNEIGH)
            case .other(let t): t
            }
        put(type)
        put(flags)
        put(sequence)
        put(UInt32(0))
        out.append(n.family)
        out.append(0)
        put(UInt16(0))
        put(n.ifindex)
        put(n.state.rawValue)
        out.append(n.flags.rawValue)
        out.append(1)  // ndm_type RTN_UNICAST
        if let ip = n.destination {
            let bytes = ip.bytes
            put(UInt16(4 + bytes.count))
            put(UInt16(NDA_DST))
            out.append(contentsOf: bytes)
            pad()
        }
        switch n.linkLayerAddress {
        case .absent: break
        case .mac(let m):
            put(UInt16(10))
            put(UInt16(NDA_LLADDR))
            m.appendBytes(to: &out)
            pad()
        case .otherLength(let l):
            put(UInt16(4 + l))
            put(UInt16(NDA_LLADDR))
            out.append(contentsOf: repeatElement(0xAB, count: l))
            pad()
        }
        let length = UInt32(out.count - start)
        withUnsafeBytes(of: length) { for (i, b) in $0.enumerated() { out[start + i] = b } }
    }

    /// Appends one RTM_NEWLINK (or RTM_DELLINK) message: ifinfomsg, IFLA_IFNAME, IFLA_MASTER.
    public static func appendLink(
        index: Int32,
        name: String,
        master: Int32? = nil,
        deleted: Bool = false,
        sequence: UInt32 = 0,
        to out: inout [UInt8]
    ) {
        let start = out.count
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
        func pad() { while (out.count - start) % 4 != 0 { out.append(0) } }
        put(UInt32(0))  // length, patched below
        put(UInt16(deleted ? RTM_DELLINK : RTM_NEWLINK))
        put(UInt16(0))
        put(sequence)
        put(UInt32(0))
        out.append(0)
        out.append(0)
        put(UInt16(0))  // ifi_family, pad, ifi_type
        put(index)
        put(UInt32(0))
        put(UInt32(0))  // ifi_index, ifi_flags, ifi_change
        let bytes = Array(name.utf8) + [0]
        put(UInt16(4 + bytes.count))
        put(UInt16(IFLA_IFNAME))
        out.append(contentsOf: bytes)
        pad()
        if let master {
            put(UInt16(8))
            put(UInt16(IFLA_MASTER))
            put(master)
        }
        patchLength(from: start, in: &out)
    }

    /// Appends the NLMSG_DONE that ends a dump (NLM_F_DUMP_INTR in `flags` when it was interrupted).
    public static func appendDone(sequence: UInt32, flags: UInt16 = 0, to out: inout [UInt8]) {
        let start = out.count
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
        put(UInt32(0))
        put(UInt16(NLMSG_DONE))
        put(flags)
        put(sequence)
        put(UInt32(0))
        put(Int32(0))
        patchLength(from: start, in: &out)
    }

    /// Appends an NLMSG_ERROR carrying `-errno` (0: an ack) for the request `sequence`.
    public static func appendError(errno: Int32, sequence: UInt32, to out: inout [UInt8]) {
        let start = out.count
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
        put(UInt32(0))
        put(UInt16(NLMSG_ERROR))
        put(UInt16(0))
        put(sequence)
        put(UInt32(0))
        put(0 &- errno)
        put(UInt32(16))
        put(UInt16(0))
        put(UInt16(0))
        put(sequence)
        put(UInt32(0))  // the request's header
        patchLength(from: start, in: &out)
    }

    private static func patchLength(from start: Int, in out: inout [UInt8]) {
        let length = UInt32(out.count - start)
        withUnsafeBytes(of: length) { for (i, b) in $0.enumerated() { out[start + i] = b } }
    }
}
