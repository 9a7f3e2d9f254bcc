import CNetlink
import Glibc
import Model

/// Where a probe on one interface comes from: its index and MAC, and its first address of the
/// probed family (upstream's `first_ip_on_intf`).
public struct ProbeSource: Sendable {
    public var ifindex: Int32
    public var mac: MACAddress
    public var ip: IPAddress

    public init(ifindex: Int32, mac: MACAddress, ip: IPAddress) {
        self.ifindex = ifindex
        self.mac = mac
        self.ip = ip
    }
}

/// Sends the probes of `ProbePackets` from raw sockets: ARP through AF_PACKET (the kernel adds the
/// Ethernet header for the broadcast), NS through an ICMPv6 raw socket with hop limit 255 and the
/// interface's address as source. Each family's socket opens on its own: one that cannot (ICMPv6
/// with `ipv6.disable=1`) leaves that family unprobed, not the restore undone.
public final class NeighborProber {
    private var sockets: [AddressFamily: Int32] = [:]
    /// Why a family cannot be probed (its socket did not open); the caller logs it once.
    public private(set) var unavailable: [AddressFamily: RestoreError] = [:]

    /// `open` gives a family's socket (the default: `openSocket`; tests pass one that fails).
    public init(open: (AddressFamily) throws(RestoreError) -> Int32 = NeighborProber.openSocket) {
        for family in AddressFamily.allCases {
            do throws(RestoreError) {
                sockets[family] = try open(family)
            } catch { unavailable[family] = error }
        }
    }

    deinit { for fd in sockets.values { close(fd) } }

    public func canProbe(_ family: AddressFamily) -> Bool { sockets[family] != nil }

    /// The raw socket that sends `family`'s probes.
    public static func openSocket(_ family: AddressFamily) throws(RestoreError) -> Int32 {
        family == .ipv4 ? try openARP() : try openICMPv6()
    }

    static func openARP() throws(RestoreError) -> Int32 {
        let fd = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RestoreError(operation: "socket(AF_PACKET)", errno: errno) }
        return fd
    }

    static func openICMPv6() throws(RestoreError) -> Int32 {
        let fd = socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
        guard fd >= 0 else { throw RestoreError(operation: "socket(AF_INET6, IPPROTO_ICMPV6)", errno: errno) }
        // RFC 4861 §7.1.1: a receiver drops an NS whose hop limit is not 255.
        var hops: Int32 = 255
        let size = socklen_t(MemoryLayout<Int32>.size)
        // The socket is never read: block every ICMPv6 type, or it queues all of them until full.
        var blockAll = [UInt32](repeating: .max, count: 8)  // ICMP6_FILTER_SETBLOCKALL
        let filterSize = socklen_t(blockAll.count * MemoryLayout<UInt32>.size)
        if setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops, size) != 0 {
            let e = errno
            close(fd)
            throw RestoreError(operation: "setsockopt(IPV6_MULTICAST_HOPS)", errno: e)
        }
        if setsockopt(fd, Int32(IPPROTO_ICMPV6), icmp6Filter, &blockAll, filterSize) != 0 {
            let e = errno
            close(fd)
            throw RestoreError(operation: "setsockopt(ICMP6_FILTER)", errno: e)
        }
        return fd
    }

    /// `ICMP6_FILTER` of <netinet/icmp6.h>, which Glibc's module does not export.
    static let icmp6Filter: Int32 = 1
    /// `IPV6_PKTINFO` of <netinet/in.h> (a GNU extension the module does not export).
    static let ipv6PacketInfo: Int32 = 50

    /// One ARP who-has (IPv4) or NS to the solicited-node address (IPv6); 0, or the errno
    /// (ENETDOWN when the link went down: the caller retries the interface).
    public func probe(_ target: IPAddress, from source: ProbeSource) -> Int32 {
        guard let fd = sockets[target.family] else { return EAFNOSUPPORT }
        let sent: Int
        if target.family == .ipv4 {
            let packet = ProbePackets.arpRequest(target: target, senderMAC: source.mac, senderIP: source.ip)
            var to = sockaddr_ll()
            to.sll_family = UInt16(AF_PACKET)
            to.sll_protocol = UInt16(ETH_P_ARP).bigEndian
            to.sll_ifindex = source.ifindex
            to.sll_halen = 6
            withUnsafeMutableBytes(of: &to.sll_addr) { for i in 0..<6 { $0[i] = 0xFF } }
            sent = Self.send(fd, packet, to, control: [])
        } else {
            let packet = ProbePackets.neighborSolicitation(target: target, senderMAC: source.mac)
            var to = sockaddr_in6()
            to.sin6_family = sa_family_t(AF_INET6)
            to.sin6_scope_id = UInt32(bitPattern: source.ifindex)
            let group = ProbePackets.solicitedNode(of: target).bytes
            withUnsafeMutableBytes(of: &to.sin6_addr) { for (i, b) in group.enumerated() { $0[i] = b } }
            sent = Self.send(fd, packet, to, control: Self.packetInfo(source: source.ip, ifindex: source.ifindex))
            // EINVAL: the address is still tentative (DAD), which the kernel will not send from; let it
            // pick another of the interface's addresses (or answer EADDRNOTAVAIL when there is none).
            if sent < 0 && errno == EINVAL { return Self.send(fd, packet, to, control: []) >= 0 ? 0 : errno }
        }
        return sent >= 0 ? 0 : errno
    }

    /// One `IPV6_PKTINFO` control message: the NS leaves from `source` (as upstream's, which
    /// builds its IPv6 header with `src=src_ip`) on interface `ifindex`.
    static func packetInfo(source: IPAddress, ifindex: Int32) -> [UInt8] {
        let header = MemoryLayout<cmsghdr>.size  // length, level, type: 16 bytes on 64-bit Linux
        let info = 20  // struct in6_pktinfo: 16-byte address, 4-byte ifindex
        let length = header + info
        let align = MemoryLayout<Int>.size
        var out = [UInt8](repeating: 0, count: header + (info + align - 1) / align * align)
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: length, toByteOffset: 0, as: Int.self)  // cmsg_len is a size_t
            raw.storeBytes(of: Int32(IPPROTO_IPV6), toByteOffset: align, as: Int32.self)
            raw.storeBytes(of: ipv6PacketInfo, toByteOffset: align + 4, as: Int32.self)
            for (i, b) in source.bytes.enumerated() { raw[header + i] = b }
            raw.storeBytes(of: UInt32(bitPattern: ifindex), toByteOffset: header + 16, as: UInt32.self)
        }
        return out
    }

    private static func send<Address>(_ fd: Int32, _ packet: [UInt8], _ address: Address, control: [UInt8]) -> Int {
        var address = address
        var packet = packet
        var control = control
        return packet.withUnsafeMutableBytes { bytes in
            control.withUnsafeMutableBytes { controlBytes in
                withUnsafeMutablePointer(to: &address) { a in
                    var vector = iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)
                    return withUnsafeMutablePointer(to: &vector) { v in
                        var message = msghdr()
                        message.msg_name = UnsafeMutableRawPointer(a)
                        message.msg_namelen = socklen_t(MemoryLayout<Address>.size)
                        message.msg_iov = v
                        message.msg_iovlen = 1
                        message.msg_control = controlBytes.isEmpty ? nil : controlBytes.baseAddress
                        message.msg_controllen = controlBytes.count
                        return sendmsg(fd, &message, 0)
                    }
                }
            }
        }
    }
}
