#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The address family of a neighbor, with the text SONiC writes in the `family` field.
public enum AddressFamily: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case ipv4 = 2  // AF_INET
    case ipv6 = 10  // AF_INET6

    /// `IPv4` / `IPv6`, as in APPL_DB.
    public var description: String { self == .ipv4 ? "IPv4" : "IPv6" }

    public init?(fieldValue: String) {
        switch fieldValue {
        case "IPv4": self = .ipv4
        case "IPv6": self = .ipv6
        default: return nil
        }
    }
}

/// An IPv4 or IPv6 address. Its text form is exactly what `inet_ntop` prints.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Bytes 0–7 of an IPv6 address (big-endian); 0 for IPv4.
    public let high: UInt64
    /// Bytes 8–15 of an IPv6 address, or the IPv4 address in the low 32 bits.
    public let low: UInt64
    public let family: AddressFamily

    public init(ipv4 value: UInt32) {
        high = 0
        low = UInt64(value)
        family = .ipv4
    }
    public init(ipv6High high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
        family = .ipv6
    }

    /// From raw network-order bytes: 4 for IPv4, 16 for IPv6; any other length is rejected.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        switch bytes.count {
        case 4:
            self.init(ipv4: bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            var h: UInt64 = 0
            var l: UInt64 = 0
            for (i, b) in bytes.enumerated() {
                if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
            }
            self.init(ipv6High: h, low: l)
        default:
            return nil
        }
    }

    /// Parses the text forms `inet_pton` accepts (dotted quad, or IPv6 without prefix or zone).
    public init?(_ text: String) {
        if text.utf8.contains(UInt8(ascii: ":")) {
            var a = in6_addr()
            guard inet_pton(AF_INET6, text, &a) == 1 else { return nil }
            self.init(a)
        } else {
            var a = in_addr()
            guard inet_pton(AF_INET, text, &a) == 1 else { return nil }
            self.init(ipv4: UInt32(bigEndian: a.s_addr))
        }
    }

    private init(_ a: in6_addr) {
        let (h, l) = withUnsafeBytes(of: a) {
            (
                UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)),
                UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
        self.init(ipv6High: h, low: l)
    }

    /// Parses address text that is exactly what `inet_ntop` prints (so `::0:1` or `0::1` is
    /// refused where `::1` is accepted), without making a string.
    public init?(canonicalUTF8 utf8: UnsafeRawBufferPointer) {
        // INET6_ADDRSTRLEN; a NUL would cut the text short
        guard utf8.count < 46, !utf8.contains(0) else { return nil }
        var parsed: IPAddress?
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 96) { buffer in
            guard let text = buffer.baseAddress else { return }
            UnsafeMutableRawBufferPointer(start: text, count: 48).copyMemory(from: utf8)
            text[utf8.count] = 0
            if utf8.contains(UInt8(ascii: ":")) {
                var a = in6_addr()
                guard inet_pton(AF_INET6, text, &a) == 1 else { return }
                // Round trip: inet_ntop of the parsed address must give back the same text.
                let back = text + 48
                guard inet_ntop(AF_INET6, &a, back, 48) != nil, strcmp(back, text) == 0 else { return }
                parsed = IPAddress(a)
            } else {
                var a = in_addr()  // inet_pton accepts only the canonical dotted quad
                guard inet_pton(AF_INET, text, &a) == 1 else { return }
                parsed = IPAddress(ipv4: UInt32(bigEndian: a.s_addr))
            }
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Network-order bytes (4 or 16).
    public var bytes: [UInt8] {
        if family == .ipv4 { return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * UInt64($0))) } }
        return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    public var description: String {
        var text: [UInt8] = []
        appendText(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// The text `inet_ntop` prints, appended to `out`: IPv4 digit by digit, IPv6 through
    /// `inet_ntop` itself (its zero-run rule is RFC 5952's), neither through a `String`.
    public func appendText(to out: inout [UInt8]) {
        if family == .ipv4 {
            for shift in stride(from: 24, through: 0, by: -8) {
                if shift < 24 { out.append(UInt8(ascii: ".")) }
                let octet = UInt8(truncatingIfNeeded: low >> UInt64(shift))
                if octet >= 100 { out.append(UInt8(ascii: "0") + octet / 100) }
                if octet >= 10 { out.append(UInt8(ascii: "0") + octet / 10 % 10) }
                out.append(UInt8(ascii: "0") + octet % 10)
            }
            return
        }
        var a = in6_addr()
        withUnsafeMutableBytes(of: &a) {
            $0.storeBytes(of: high.bigEndian, as: UInt64.self)
            $0.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN)) { text in
            guard let base = text.baseAddress, inet_ntop(AF_INET6, &a, base, socklen_t(text.count)) != nil else {
                out.append(UInt8(ascii: "?"))  // not reached: the buffer fits every address
                return
            }
            out.append(contentsOf: UnsafeRawBufferPointer(start: base, count: strlen(base)))
        }
    }

    /// 169.254.0.0/16
    public var isIPv4LinkLocal: Bool { family == .ipv4 && (low >> 16) == 0xA9FE }
    /// fe80::/10
    public var isIPv6LinkLocal: Bool { family == .ipv6 && (high >> 54) == (0xFE80 >> 6) }
    /// ff02::/16 (`IN6_IS_ADDR_MC_LINKLOCAL`)
    public var isIPv6MulticastLinkLocal: Bool { family == .ipv6 && (high >> 48) == 0xFF02 }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.family.rawValue, a.high, a.low) < (b.family.rawValue, b.high, b.low)
    }
}
