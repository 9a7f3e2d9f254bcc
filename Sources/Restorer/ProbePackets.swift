import Model

/// The probes restore_neighbors.py sends after adding a neighbor, as bytes: an ARP who-has
/// (the payload of an Ethernet broadcast) and an ICMPv6 Neighbor Solicitation (the payload of a
/// packet to the target's solicited-node address; the kernel fills in the checksum).
public enum ProbePackets {
    static func macBytes(_ m: MACAddress) -> [UInt8] {
        stride(from: 40, through: 0, by: -8).map { UInt8(truncatingIfNeeded: m.rawValue >> UInt64($0)) }
    }

    /// ARP request (RFC 826) for `target` from `senderMAC`/`senderIP` (0.0.0.0 when the interface
    /// has no IPv4 address: a probe that peers still answer).
    public static func arpRequest(target: IPAddress, senderMAC: MACAddress, senderIP: IPAddress?) -> [UInt8] {
        var out: [UInt8] = [0, 1, 0x08, 0x00, 6, 4, 0, 1]  // Ethernet, IPv4, lengths, op request
        out += macBytes(senderMAC)
        out += senderIP?.bytes ?? [0, 0, 0, 0]
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
        out += [1, 1] + macBytes(senderMAC)  // option 1, length 1 (8 bytes)
        return out
    }
}

/// Spaces probes so a large table does not flood the link: at most `perSecond` on average,
/// `burst` at once. Pure: the caller sleeps for what `reserve` returns.
public struct ProbePacer: Sendable {
    public let perSecond: Int
    public let burst: Int
    private var tokens: Double
    private var last: ContinuousClock.Instant?

    public init(perSecond: Int, burst: Int) {
        self.perSecond = max(1, perSecond)
        self.burst = max(1, burst)
        tokens = Double(self.burst)
    }

    /// Takes one probe's token at `now`; returns how long to wait before sending it.
    public mutating func reserve(at now: ContinuousClock.Instant) -> Duration {
        if let last {
            let elapsed = max(0, (now - last) / .seconds(1))
            tokens = min(Double(burst), tokens + elapsed * Double(perSecond))
        }
        last = now
        tokens -= 1
        guard tokens < 0 else { return .zero }
        return .seconds(-tokens / Double(perSecond))
    }
}
