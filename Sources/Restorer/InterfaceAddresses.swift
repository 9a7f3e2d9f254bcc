import CNetlink
import Glibc
import Model

/// Each interface's MAC and first IPv4 and IPv6 address, from one `getifaddrs`: what upstream's
/// `get_if_hwaddr` and `first_ip_on_intf` read, for all interfaces at once.
public struct InterfaceAddresses: Sendable {
    public struct Entry: Sendable, Equatable {
        public var mac: MACAddress?
        public var ipv4: IPAddress?
        /// Link-local counts; the scope is not part of it (upstream strips `%<if>`).
        public var ipv6: IPAddress?
    }

    public private(set) var byName: [String: Entry] = [:]

    public init(byName: [String: Entry] = [:]) { self.byName = byName }

    public subscript(_ interface: InterfaceName) -> Entry { byName[interface.rawValue] ?? Entry() }

    /// Reads the system's list; an error reads as no addresses at all (nothing is ready this pass).
    public static func read() -> InterfaceAddresses {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return InterfaceAddresses() }
        defer { freeifaddrs(list) }
        var out = InterfaceAddresses()
        var next = list
        while let item = next {
            defer { next = item.pointee.ifa_next }
            guard let name = item.pointee.ifa_name, let address = item.pointee.ifa_addr else { continue }
            let raw = UnsafeRawPointer(address)
            var entry = out.byName[String(cString: name)] ?? Entry()
            switch Int32(address.pointee.sa_family) {
            case AF_PACKET:
                let ll = raw.loadUnaligned(as: sockaddr_ll.self)
                if ll.sll_halen == 6 {
                    entry.mac = withUnsafeBytes(of: ll.sll_addr) { MACAddress(bytes: $0.prefix(6)) }
                }
            case AF_INET where entry.ipv4 == nil:
                let v4 = raw.loadUnaligned(as: sockaddr_in.self)
                entry.ipv4 = IPAddress(ipv4: UInt32(bigEndian: v4.sin_addr.s_addr))
            case AF_INET6 where entry.ipv6 == nil:
                let v6 = raw.loadUnaligned(as: sockaddr_in6.self)
                entry.ipv6 = withUnsafeBytes(of: v6.sin6_addr) { IPAddress(bytes: $0) }
            default: continue
            }
            out.byName[String(cString: name)] = entry
        }
        return out
    }
}
