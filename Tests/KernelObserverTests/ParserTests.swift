import CNetlink
import Foundation
import KernelObserver
import Model
import Testing

/// Golden bytes captured from this kernel by Fixtures/capture.py (Python's own netlink socket,
/// not this code), checked against `ip -j` output of the same tables.
@Suite struct ParserTests {
    static func fixture(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
        return try Data(contentsOf: url)
    }

    static func items(_ data: Data) -> [NetlinkItem] {
        var out: [NetlinkItem] = []
        data.withUnsafeBytes { NetlinkParser.forEachItem(in: $0) { out.append($0) } }
        return out
    }

    static func linkTable() throws -> LinkTable {
        var t = LinkTable()
        for case .link(let l, _) in Self.items(try fixture("link-dump.bin")) { t.apply(l) }
        return t
    }

    @Test func linkDumpMatchesIpLink() throws {
        let t = try Self.linkTable()
        let json = try #require(try JSONSerialization.jsonObject(with: Self.fixture("link.json")) as? [[String: Any]])
        #expect(t.links.count == json.count)
        for l in json {
            let index = try #require(l["ifindex"] as? Int)
            #expect(t.links[Int32(index)]?.name.rawValue == l["ifname"] as? String)
            if let master = l["master"] as? String {
                #expect(t.master(of: Int32(index))?.rawValue == master)
            }
        }
    }

    @Test func neighborDumpMatchesIpNeighEntryByEntry() throws {
        var t = try Self.linkTable()
        var table: [NeighborKey: KernelNeighbor] = [:]
        var skipped = 0
        var done = 0
        for item in Self.items(try Self.fixture("neigh-dump.bin")) {
            switch item {
            case .neighbor(let n, let h):
                #expect(n.type == .newNeighbor && h.sequence == 2)
                let name = t.name(of: n.ifindex)
                let key = NeighborKey(interface: try #require(name), ip: try #require(n.destination))
                table[key] = KernelNeighbor(linkLayerAddress: n.linkLayerAddress, state: n.state, flags: n.flags)
            case .skipped: skipped += 1
            case .done: done += 1
            default: Issue.record("unexpected \(item)")
            }
        }
        let expected = try IPNeighJSON.parse(Self.fixture("neigh.json"), source: "neigh.json")
        #expect(expected.issues.isEmpty)
        #expect(table == expected.table)
        #expect(table.count == 15)
        #expect(done == 1)
        #expect(t.numericFallbacks == 0)
        #expect(skipped == 0)  // this kernel's AF_UNSPEC dump holds no AF_BRIDGE entries (notifications do)
        let router = try #require(table[NeighborKey("Ethernet0:fe80::1")!])
        #expect(router.flags == [.router])
        #expect(table[NeighborKey("Ethernet0:10.0.0.4")!]?.flags == [.extLearned])
    }

    @Test func liveNotificationsInOrder() throws {
        let seen: [(NeighborMessageType, NUDState, LinkLayerAddress)] = Self.items(try Self.fixture("live.bin"))
            .compactMap {
                if case .neighbor(let n, _) = $0, n.destination == IPAddress("10.0.0.50") {
                    (n.type, n.state, n.linkLayerAddress)
                } else {
                    nil
                }
            }
        let m50 = LinkLayerAddress.mac(MACAddress("00:00:00:00:00:50")!)
        let m51 = LinkLayerAddress.mac(MACAddress("00:00:00:00:00:51")!)
        #expect(seen.map(\.0) == [.newNeighbor, .newNeighbor, .newNeighbor, .deleteNeighbor])
        #expect(seen[0].2 == m50 && seen[1].2 == m51)
        #expect(seen[2].1 == .failed)  // one `ip neigh del`: FAILED, then DELNEIGH
    }

    @Test func roundTrip() throws {
        for name in ["neigh-dump.bin", "live.bin"] {
            let parsed = Self.items(try Self.fixture(name)).compactMap {
                if case .neighbor(let n, _) = $0 { n } else { nil }
            }
            var bytes: [UInt8] = []
            for n in parsed { NetlinkEncoder.append(n, to: &bytes) }
            let again = bytes.withUnsafeBytes { buf in
                var out: [RawNeighbor] = []
                NetlinkParser.forEachItem(in: buf) {
                    if case .neighbor(let n, _) = $0 { out.append(n) } else { Issue.record("\($0)") }
                }
                return out
            }
            #expect(again == parsed)
            #expect(!parsed.isEmpty)
        }
    }

    @Test func everyTruncationIsReportedNeverACrash() throws {
        for name in ["neigh-dump.bin", "link-dump.bin", "live.bin"] {
            let data = [UInt8](try Self.fixture(name))
            let whole = Self.items(Data(data)).count
            for cut in 0..<data.count {
                var items: [NetlinkItem] = []
                data[..<cut].withUnsafeBytes { NetlinkParser.forEachItem(in: $0) { items.append($0) } }
                let malformed = items.filter { if case .malformed = $0 { true } else { false } }.count
                #expect(malformed <= 1, "\(name) cut at \(cut)")
                #expect(items.count <= whole)
                // A cut inside a message is always reported.
                let boundaries = Self.boundaries(data)
                if cut > 0 && !boundaries.contains(cut) {
                    #expect(malformed == 1, "\(name) cut at \(cut) not reported")
                }
            }
        }
    }

    static func boundaries(_ data: [UInt8]) -> Set<Int> {
        var b: Set<Int> = [0]
        var o = 0
        while o + 4 <= data.count {
            let len = Int(data[o]) | Int(data[o + 1]) << 8 | Int(data[o + 2]) << 16 | Int(data[o + 3]) << 24
            o += (len + 3) & ~3
            b.insert(o)
        }
        return b
    }

    @Test func randomAndCorruptedBuffersNeverCrash() throws {
        var rng = SplitMix(seed: 0x5EED)
        let base = [UInt8](try Self.fixture("neigh-dump.bin"))
        var reported = 0
        for round in 0..<20_000 {
            var buf: [UInt8]
            if round % 2 == 0 {
                buf = (0..<Int(rng.next() % 512)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                buf = base
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    buf[Int(rng.next() % UInt64(buf.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            buf.withUnsafeBytes { NetlinkParser.forEachItem(in: $0) { if case .malformed = $0 { reported += 1 } } }
        }
        #expect(reported > 1000)
    }

    /// Found by FuzzNetlink: an NLMSG_ERROR carrying Int32.min trapped negating it.
    @Test func anyErrorCodeIsReadWithoutATrap() {
        for code in [Int32.min, -1, 0, Int32.max] {
            var bytes: [UInt8] = []
            let length = UInt32(16 + 4)
            withUnsafeBytes(of: length.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: UInt16(NLMSG_ERROR).littleEndian) { bytes += $0 }
            bytes += [0, 0, 7, 0, 0, 0, 0, 0, 0, 0]  // flags, sequence 7, port id
            withUnsafeBytes(of: code.littleEndian) { bytes += $0 }
            var items: [NetlinkItem] = []
            bytes.withUnsafeBytes { NetlinkParser.forEachItem(in: $0) { items.append($0) } }
            guard items.count == 1, case .error(let errno, let h) = items[0] else {
                Issue.record("\(items)")
                continue
            }
            #expect(errno == 0 &- code && h.sequence == 7)
        }
    }

    @Test func attributeLengthsAreChecked() {
        var bytes: [UInt8] = []
        NetlinkEncoder.append(
            RawNeighbor(
                type: .newNeighbor,
                family: KernelFamily.inet,
                ifindex: 2,
                state: .reachable,
                flags: [],
                destination: IPAddress("10.0.0.1"),
                linkLayerAddress: .otherLength(4)
            ),
            to: &bytes
        )
        NetlinkEncoder.append(
            RawNeighbor(
                type: .newNeighbor,
                family: KernelFamily.inet6,
                ifindex: 2,
                state: .reachable,
                flags: [],
                destination: IPAddress("10.0.0.2"),
                linkLayerAddress: .absent
            ),
            to: &bytes
        )
        // An FDB notification (AF_BRIDGE) is dropped before its attributes are read.
        NetlinkEncoder.append(
            RawNeighbor(
                type: .newNeighbor,
                family: KernelFamily.bridge,
                ifindex: 2,
                state: .permanent,
                flags: [],
                destination: nil,
                linkLayerAddress: .mac(.zero)
            ),
            to: &bytes
        )
        var items: [NetlinkItem] = []
        bytes.withUnsafeBytes { NetlinkParser.forEachItem(in: $0) { items.append($0) } }
        #expect(items.count == 3)
        #expect(items[2] == .skipped(type: UInt16(RTM_NEWNEIGH)))
        if case .neighbor(let n, _) = items[0] {
            #expect(n.linkLayerAddress == .otherLength(4))
        } else {
            Issue.record("\(items[0])")
        }
        if case .malformed(.badDestination(let f, let l, _)) = items[1] {
            #expect(f == 10 && l == 4)
        } else {
            Issue.record("\(items[1])")
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
