import Model

@testable import Journal

/// BLOBs as the journal's own encoder writes them, one of each kind, to seed the journal fuzz
/// targets: the seeds follow the format as it changes.
public enum JournalSamples {
    static let v4 = NeighborKey(interface: InterfaceName("Ethernet0")!, ip: IPAddress(ipv4: 0x0A00_0002))
    static let v6 = NeighborKey(interface: InterfaceName("Vlan1000")!, ip: IPAddress(ipv6High: 0xFC00 << 48, low: 2))
    static let e4 = NeighborEntry(mac: MACAddress(rawValue: 0x0200_0000_0001), family: .ipv4)
    static let e6 = NeighborEntry(mac: MACAddress(rawValue: 0x0200_0000_0002), family: .ipv6)

    /// (name, records, count): the store view, the desired view and a batch.
    public static let blobs: [(name: String, bytes: [UInt8], count: Int)] = [
        (
            "store-view",
            Records.encode(StoreSnapshot(entries: [v4: .valid(e4), v6: .malformed], malformedKeys: ["bad key"]))
        ),
        ("desired-view", Records.encode([DesiredEntry(v4, e4), DesiredEntry(v6, e6)])),
        ("batch", Records.encode([.set(v6, e6), .del(v4), .delMalformed("Ethernet0:10.0.0.02")])),
    ].map { ($0.0, $0.1.bytes, $0.1.count) }
}
