import Model

/// The probes restore_neighbors.py sends after adding a neighbor, as bytes: an ARP who-has
/// (the payload of an Ethernet broadcast) and an ICMPv6 Neighbor Solicitation (the payload of a
/// packet to the target's solicited-node address; the kernel fills in the checksum).
public enum ProbePackets {
    /// ARP request (RFC 826) for `target` from the interface's `senderMAC` and first IPv4 address
    /// `senderIP` (upstream's `first_ip_on_intf`; without one the family is not restored yet).
    public static func arpRequest(target: IPAddress, senderMAC: MACAddress, senderIP: IPAddress) -> [UInt8] {
        var out: [UInt8] = [0, 1, 0x08, 0x00, 6, 4, 0, 1]  // Ethernet, IPv4, lengths, op request
        senderMAC.appendBytes(to: &out)
        out += senderIP.bytes
        out += [UInt8](repeating: 0, count: 6)
        out += target.bytes
        return out
    }

    /// `ff02::1:ffXX:XXXX`, the last 24 bits of `target` (RFC 4291 §2.7.1).
    public static func solicitedNode(of target: IPAddress) -> IPAddress {
        IPAddress(ipv6High: 0xFF02_0000_0000_0000, low: 0x0000_0001_FF00_0000 | (target.low & 0xFF_FFFF))
    }

    /// Neighbor Solicitation (RFC 4861 §4.3) for `target`, with the source link-layer address option.
    public static func neighborSolicitation(target: IPAddress, senderMAC: MACAddress) -> [UInt8] {
        var out: [UInt8] = [135, 0, 0, 0, 0, 0, 0, 0]  // type, code, checksum (kernel), reserved
        out += target.bytes
        out += [1, 1]  // option 1 (source link-layer address), length 1 (8 bytes)
        senderMAC.appendBytes(to: &out)
        return out
    }
}
