/// A Linux interface name as the kernel allows it: 1–15 bytes, no `/`, `:` or white space.
/// Because `:` is excluded, `<ifname>:<ip>` keys split unambiguously at the first colon.
public struct InterfaceName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ text: some StringProtocol) {
        let utf8 = text.utf8
        guard (1...15).contains(utf8.count),
              !utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 || $0 == 0x7F })
        else { return nil }
        rawValue = String(text)
    }

    /// The name used when an ifindex cannot be resolved (spec §2 rule 3): the decimal index.
    public init(numericFallback ifindex: Int32) { rawValue = String(ifindex) }

    public var description: String { rawValue }
    public static func < (a: InterfaceName, b: InterfaceName) -> Bool { a.rawValue < b.rawValue }
}
