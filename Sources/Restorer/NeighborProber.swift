import CNetlink
import Glibc
import Model

/// Where probes on one interface come from: its index, MAC and first IPv4 address.
public struct ProbeSource: Sendable {
    public var ifindex: Int32
    public var mac: MACAddress
    public var ipv4: IPAddress?
}

/// Sends the probes of `ProbePackets` from raw sockets: ARP through AF_PACKET (the kernel adds the
/// Ethernet header for the broadcast), NS through an ICMPv6 raw socket with hop limit 255.
public final class NeighborProber {
    private let arpSocket: Int32
    private let icmpSocket: Int32

    public init() throws(RestoreError) {
        let arp = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard arp >= 0 else { throw RestoreError(operation: "socket(AF_PACKET)", errno: errno) }
        let icmp = socket(AF_INET6, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMPV6))
        guard icmp >= 0 else {
            let e = errno
            close(arp)
            throw RestoreError(operation: "socket(AF_INET6, IPPROTO_ICMPV6)", errno: e)
        }
        // RFC 4861 §7.1.1: a receiver drops an NS whose hop limit is not 255.
        var hops: Int32 = 255
        guard
            setsockopt(icmp, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops, socklen_t(MemoryLayout<Int32>.size)) == 0
        else {
            let e = errno
            close(arp)
            close(icmp)
            throw RestoreError(operation: "setsockopt(IPV6_MULTICAST_HOPS)", errno: e)
        }
        arpSocket = arp
        icmpSocket = icmp
    }

    deinit {
        close(arpSocket)
        close(icmpSocket)
    }

    /// The interface's MAC and first IPv4 address (getifaddrs), or nil when it has no MAC.
    public static func source(for interface: InterfaceName) -> ProbeSource? {
        let index = Int32(bitPattern: if_nametoindex(interface.rawValue))
        guard index > 0 else { return nil }
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var mac: MACAddress?
        var ipv4: IPAddress?
        var next = list
        while let entry = next {
            defer { next = entry.pointee.ifa_next }
            guard let name = entry.pointee.ifa_name, String(cString: name) == interface.rawValue,
                let address = entry.pointee.ifa_addr
            else { continue }
            switch Int32(address.pointee.sa_family) {
            case AF_PACKET:
                let ll = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_ll.self)
                if ll.sll_halen == 6 { mac = withUnsafeBytes(of: ll.sll_addr) { MACAddress(bytes: $0.prefix(6)) } }
            case AF_INET where ipv4 == nil:
                let v4 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
                ipv4 = IPAddress(ipv4: UInt32(bigEndian: v4.sin_addr.s_addr))
            default: break
            }
        }
        return mac.map { ProbeSource(ifindex: index, mac: $0, ipv4: ipv4) }
    }

    /// One ARP who-has (IPv4) or NS to the solicited-node address (IPv6); 0, or the errno
    /// (ENETDOWN when the link went down: the caller retries the interface).
    public func probe(_ target: IPAddress, from source: ProbeSource) -> Int32 {
        let sent: Int
        if target.family == .ipv4 {
            let packet = ProbePackets.arpRequest(target: target, senderMAC: source.mac, senderIP: source.ipv4)
            var to = sockaddr_ll()
            to.sll_family = UInt16(AF_PACKET)
            to.sll_protocol = UInt16(ETH_P_ARP).bigEndian
            to.sll_ifindex = source.ifindex
            to.sll_halen = 6
            withUnsafeMutableBytes(of: &to.sll_addr) { for i in 0..<6 { $0[i] = 0xFF } }
            sent = Self.send(arpSocket, packet, to)
        } else {
            let packet = ProbePackets.neighborSolicitation(target: target, senderMAC: source.mac)
            var to = sockaddr_in6()
            to.sin6_family = sa_family_t(AF_INET6)
            to.sin6_scope_id = UInt32(bitPattern: source.ifindex)
            let group = ProbePackets.solicitedNode(of: target).bytes
            withUnsafeMutableBytes(of: &to.sin6_addr) { for (i, b) in group.enumerated() { $0[i] = b } }
            sent = Self.send(icmpSocket, packet, to)
        }
        return sent >= 0 ? 0 : errno
    }

    private static func send<Address>(_ fd: Int32, _ packet: [UInt8], _ address: Address) -> Int {
        var address = address
        return packet.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { a in
                a.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<Address>.size))
                }
            }
        }
    }
}
