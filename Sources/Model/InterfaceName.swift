/// A Linux interface name as the kernel allows it and APPL_DB can carry it: 1–15 bytes of
/// valid UTF-8, no `/`, `:`, white space or control character. Because `:` is excluded,
/// `<ifname>:<ip>` keys split unambiguously at the first colon (as consumers split them).
public struct InterfaceName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String
    /// FNV-1a of the name, computed once: hashing a key then costs no string hashing.
    public let fingerprint: UInt64

    public init?(_ text: some StringProtocol) {
        guard Self.isAcceptable(text.utf8) else { return nil }
        rawValue = String(text)
        fingerprint = Self.fnv1a(rawValue)
    }

    /// A name given as bytes (netlink's IFLA_IFNAME, a Redis key): nil unless they are valid
    /// UTF-8 and an acceptable name. Never decoded lossily: two names that differ only in bytes
    /// that are not UTF-8 would otherwise become one.
    public init?(utf8 bytes: some Collection<UInt8>) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        self.init(text)
    }

    /// The name used when an ifindex cannot be resolved (spec §2 rule 3): the decimal index.
    public init(numericFallback ifindex: Int32) {
        rawValue = String(ifindex)
        fingerprint = Self.fnv1a(rawValue)
    }

    /// The kernel's own rule (no `/`, `:` or white space) plus no control character, C0 or
    /// C1: such a name could never be an orchagent port, and would reach logs raw.
    static func isAcceptable(_ utf8: some Collection<UInt8>) -> Bool {
        guard (1...15).contains(utf8.count) else { return false }
        var previous: UInt8 = 0
        for b in utf8 {
            if b == UInt8(ascii: "/") || b == UInt8(ascii: ":") || b <= 0x20 || b == 0x7F { return false }
            if previous == 0xC2 && (0x80...0x9F).contains(b) { return false }  // U+0080–U+009F
            previous = b
        }
        return true
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
