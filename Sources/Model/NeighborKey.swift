/// The APPL_DB key of a neighbor: `<ifname>:<ip>` (no VRF, no prefix length, no zone).
public struct NeighborKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let interface: InterfaceName
    public let ip: IPAddress

    public init(interface: InterfaceName, ip: IPAddress) {
        self.interface = interface
        self.ip = ip
    }

    /// Parses `<ifname>:<ip>`, splitting at the first `:` as consumers do.
    public init?(_ text: some StringProtocol) {
        guard let colon = text.firstIndex(of: ":"),
            let name = InterfaceName(text[..<colon]),
            let ip = IPAddress(String(text[text.index(after: colon)...]))
        else { return nil }
        self.init(interface: name, ip: ip)
    }

    /// Parses the key of a stored entry from UTF-8 bytes: `<ifname>:<ip>` exactly as this daemon
    /// writes it (the address as `inet_ntop` prints it), or nil. A key written any other way is
    /// never matched by a kernel neighbor, so it counts as malformed. Bytes that are not UTF-8
    /// give nil too (never a lossy name that some other key may also decode to).
    public init?(canonicalUTF8 utf8: UnsafeRawBufferPointer) {
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")),
            let name = InterfaceName(utf8: UnsafeRawBufferPointer(rebasing: utf8[..<colon])),
            let ip = IPAddress(canonicalUTF8: UnsafeRawBufferPointer(rebasing: utf8[(colon + 1)...]))
        else { return nil }
        self.init(interface: name, ip: ip)
    }

    public var description: String {
        var text: [UInt8] = []
        appendText(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// `description`'s bytes, appended without a `String` in between (the write path lays out
    /// 100,000 keys in a cold start).
    public func appendText(to out: inout [UInt8]) {
        out.append(contentsOf: interface.rawValue.utf8)
        out.append(UInt8(ascii: ":"))
        ip.appendText(to: &out)
    }

    /// One mixed word: keys are hashed several times per event, so the word is what is hashed.
    public func hash(into hasher: inout Hasher) { hasher.combine(word) }

    /// Hash tables ask for this directly: two multiply-folds of the word instead of a SipHash
    /// round (a fifth of the event loop's time in a cold start). Addresses are chosen by whoever
    /// sends ARP/NDP, so the buckets must not be foreseeable: the table's seed (its storage
    /// address) and a random key drawn once per process go in, as `Hasher`'s own seed does.
    public func _rawHashValue(seed: Int) -> Int {
        let key = Self.processKey
        let first = (word ^ UInt64(truncatingIfNeeded: seed) ^ key).multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15)
        let second = (first.high ^ first.low ^ key).multipliedFullWidth(by: 0xC2B2_AE3D_27D4_EB4F)
        return Int(truncatingIfNeeded: second.high ^ second.low)
    }

    /// Drawn from `Hasher`'s per-process seed, so `SWIFT_DETERMINISTIC_HASHING` (the tests) makes
    /// table order repeat from run to run, as it does for every other key type.
    private static let processKey: UInt64 = {
        var hasher = Hasher()
        hasher.combine(0x6E65_6967_6873_7963 as UInt64)
        return UInt64(truncatingIfNeeded: hasher.finalize())
    }()

    private var word: UInt64 {
        interface.fingerprint &* 0x9E37_79B9_7F4A_7C15 ^ ip.low ^ (ip.high &* 0xC2B2_AE3D_27D4_EB4F)
            ^ UInt64(ip.family.rawValue) << 59
    }

    public static func < (a: NeighborKey, b: NeighborKey) -> Bool {
        a.interface != b.interface ? a.interface < b.interface : a.ip < b.ip
    }
}
