/// A Linux interface name as the kernel allows it: 1–15 bytes, no `/`, `:` or white space.
/// Because `:` is excluded, `<ifname>:<ip>` keys split unambiguously at the first colon.
public struct InterfaceName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String
    /// FNV-1a of the name, computed once: hashing a key then costs no string hashing.
    public let fingerprint: UInt64

    public init?(_ text: some StringProtocol) {
        let utf8 = text.utf8
        guard (1...15).contains(utf8.count),
              !utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 || $0 == 0x7F })
        else { return nil }
        rawValue = String(text)
        fingerprint = Self.fnv1a(rawValue)
    }

    /// The name used when an ifindex cannot be resolved (spec §2 rule 3): the decimal index.
    public init(numericFallback ifindex: Int32) {
        rawValue = String(ifindex)
        fingerprint = Self.fnv1a(rawValue)
    }

    static func fnv1a(_ s: String) -> UInt64 {
        s.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    public static func == (a: InterfaceName, b: InterfaceName) -> Bool {
        a.fingerprint == b.fingerprint && a.rawValue == b.rawValue
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(fingerprint) }

    public var description: String { rawValue }
    public static func < (a: InterfaceName, b: InterfaceName) -> Bool { a.rawValue < b.rawValue }
}
