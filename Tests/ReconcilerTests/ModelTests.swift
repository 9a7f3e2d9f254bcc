import Foundation
import Model
import Testing

@Suite struct ModelTests {
    @Test(arguments: [
        "::", "::1", "::ffff:10.0.0.1", "::10.0.0.1", "fe80::2e0:ecff:fe3b:d6ac", "2001:db8::1:0:0:1",
        "1:0:0:2::3", "1::2:0:0:3", "fc02:1000::2", "2000::2", "ff02::16", "1:2:3:4:5:6:7:8", "1::", "0.0.0.0",
        "255.255.255.255", "10.0.0.2",
    ])
    func ipTextIsInetNtop(_ text: String) throws {
        let ip = try #require(IPAddress(text))
        #expect(ip.description == text)
        #expect(IPAddress(bytes: ip.bytes) == ip)
    }

    /// IPv4 text is laid out digit by digit: it must be `inet_ntop`'s for every octet value.
    @Test func ipv4TextIsInetNtopsForEveryOctet() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let samples =
            (0...255).map { UInt32($0) * 0x0101_0101 }
            + (0..<2000).map { _ -> UInt32 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt32(truncatingIfNeeded: state >> 29)
            }
        for raw in samples {
            var a = in_addr(s_addr: raw.bigEndian)
            var text = [CChar](repeating: 0, count: 16)
            let ntop = inet_ntop(AF_INET, &a, &text, 16).map { String(cString: $0) }
            let ip = IPAddress(ipv4: raw)
            var out: [UInt8] = [7]
            ip.appendText(to: &out)
            #expect(ip.description == ntop && out == [7] + Array(ip.description.utf8), "\(raw)")
        }
    }

    @Test func ipTextIsCanonicalised() {
        #expect(IPAddress("2001:DB8:0:0:0:0:0:1")?.description == "2001:db8::1")
        #expect(IPAddress("fe80:0::1")?.description == "fe80::1")
        for bad in ["", "10.0.0", "10.0.0.256", "fe80::1%eth0", "10.0.0.0/24", "::g", "01.2.3.4x"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func ipRanges() {
        #expect(IPAddress("169.254.3.4")!.isIPv4LinkLocal)
        #expect(!IPAddress("169.255.0.1")!.isIPv4LinkLocal)
        #expect(IPAddress("fe80::1")!.isIPv6LinkLocal)
        #expect(IPAddress("febf::1")!.isIPv6LinkLocal)
        #expect(!IPAddress("fec0::1")!.isIPv6LinkLocal)
        #expect(IPAddress("ff02::1:ff00:1")!.isIPv6MulticastLinkLocal)
        #expect(!IPAddress("ff05::1")!.isIPv6MulticastLinkLocal)
    }

    @Test func macTextIsLowerCaseWithColons() throws {
        #expect(MACAddress("00:AA:bb:0C:dd:EF")?.description == "00:aa:bb:0c:dd:ef")
        #expect(MACAddress(bytes: [0, 1, 2, 3, 4, 5])?.description == "00:01:02:03:04:05")
        #expect(MACAddress(bytes: [0, 1, 2, 3]) == nil)
        for bad in [
            "none", "", "00:01:02:03:04", "00:01:02:03:04:05:06", "0:1:2:3:4:5", "00-01-02-03-04-05",
            "zz:01:02:03:04:05",
        ] {
            #expect(MACAddress(bad) == nil, "\(bad)")
        }
    }

    /// The batch writer declares `textLength` bytes, then appends the text: both must match
    /// `description` for every MAC, or the protocol it lays out is corrupt.
    @Test func macTextAppendedIsTheDescription() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let samples =
            [0, 0xFFFF_FFFF_FFFF, 0x0A0B_0C0D_0E0F]
            + (0..<1000).map { _ -> UInt64 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return state >> 16
            }
        for raw in samples {
            let mac = MACAddress(rawValue: raw)
            var out: [UInt8] = [1]
            mac.appendText(to: &out)
            #expect(out == [1] + Array(mac.description.utf8) && out.count == 1 + MACAddress.textLength, "\(mac)")
        }
    }

    /// The hash tables index by the hash's low bits: keys that differ only in the bits an on-link
    /// sender picks (an IPv6 interface identifier, the last octets of an IPv4 address) must
    /// spread over the buckets, not pile into a few (a flat word such as the address itself
    /// would put every key of a stride into one bucket).
    @Test(arguments: [1, 256, 65536])
    func keysOfOneSubnetSpreadOverTheBuckets(stride step: Int) throws {
        let name = try #require(InterfaceName("Ethernet0"))
        let buckets = 1 << 14
        // IPv4 has 24 bits under a /8 to give: the widest stride fits only IPv6's 64.
        for ipv6 in step * buckets <= 1 << 24 ? [false, true] : [true] {
            var load = [Int](repeating: 0, count: buckets)
            for i in 0..<buckets {
                let low = UInt64(i * step)
                let ip =
                    ipv6
                    ? IPAddress(ipv6High: 0x2001_0db8_0000_0001, low: low)
                    : IPAddress(ipv4: 0x0A00_0000 | UInt32(low))
                let key = NeighborKey(interface: name, ip: ip)
                load[key._rawHashValue(seed: 0x5EED) & (buckets - 1)] += 1
            }
            // A uniform hash puts at most ~9 of 16,384 keys in one of 16,384 buckets.
            #expect(load.max()! <= 16, "IPv6 \(ipv6), stride \(step): \(load.max()!) keys in one bucket")
        }
    }

    @Test func keysSplitAtTheFirstColon() throws {
        let k = try #require(NeighborKey("Ethernet122:fe80::2e0:ecff:fe3b:d6ac"))
        #expect(k.interface.rawValue == "Ethernet122")
        #expect(k.ip.description == "fe80::2e0:ecff:fe3b:d6ac")
        #expect(k.description == "Ethernet122:fe80::2e0:ecff:fe3b:d6ac")
        #expect(NeighborKey("PortChannel0002:10.0.0.59")?.description == "PortChannel0002:10.0.0.59")
        for bad in ["garbage", ":10.0.0.1", "Ethernet0:", "Ethernet0:10.0.0.1/32", "Ethernet0 :10.0.0.1"] {
            #expect(NeighborKey(bad) == nil, "\(bad)")
        }
    }

    @Test func interfaceNamesFollowTheKernelRules() {
        #expect(InterfaceName("Ethernet0") != nil)
        #expect(InterfaceName("PortChannel0002") != nil)
        #expect(InterfaceName("0123456789abcdef") == nil)  // 16 bytes
        for bad in ["", "a/b", "a:b", "a b", "a\tb"] { #expect(InterfaceName(bad) == nil, "\(bad)") }
    }

    @Test func policyFromConfigDB() {
        let p = Policy(configDB: [
            "INTERFACE|Ethernet0": ["ipv6_use_link_local_only": "enable"],
            "INTERFACE|Ethernet4": ["ipv6_use_link_local_only": "disable"],
            "INTERFACE|Vlan1000": ["ipv6_use_link_local_only": "enable"],  // wrong table for a Vlan
            "VLAN_INTERFACE|Vlan2000": ["ipv6_use_link_local_only": "enable"],
            "PORTCHANNEL_INTERFACE|PortChannel1|10.0.0.0/31": ["ipv6_use_link_local_only": "enable"],
            "PEER_SWITCH|peer": ["address_ipv4": "10.1.0.1"],
        ])
        #expect(p.linkLocalInterfaces == [InterfaceName("Ethernet0")!, InterfaceName("Vlan2000")!])
        #expect(p.dualToR)
        #expect(!p.evpn)
    }

    @Test func journalImageFollowsRecords() {
        let k = NeighborKey("Ethernet0:10.0.0.1")!
        let e = NeighborEntry(mac: .zero, family: .ipv4)
        var j = JournalImage.empty
        let k2 = NeighborKey("Ethernet0:10.0.0.2")!
        let b = Batch(id: 7, changes: [.set(k, e)])
        let b2 = Batch(id: 8, changes: [.set(k2, e)])
        j.apply(.batchWritten(b))
        j.apply(.batchWritten(b2))
        #expect(j.inFlight == [b, b2] && j.actual.entries.isEmpty && j.lastBatchID == 8)
        j.apply(.batchApplied(b))
        #expect(j.inFlight == [b2] && j.actual.entries[k] == .valid(e) && j.lastBatchID == 8)
        j.apply(.storeReloaded(StoreSnapshot()))
        #expect(j.actual.entries.isEmpty && j.inFlight.isEmpty)
    }
}

@Suite struct BackoffTests {
    @Test func doublesFromTheFirstWaitUpToTheMaximum() {
        let b = Backoff(initialMilliseconds: 100, maximumMilliseconds: 1000)
        #expect((1...7).map(b.milliseconds(afterFailures:)) == [100, 200, 400, 800, 1000, 1000, 1000])
    }

    /// A streak counted from outside (Redis refusing for days) must not overflow the doubling.
    @Test func anyCountOfFailuresStaysWithinTheMaximum() {
        let b = Backoff(initialMilliseconds: Int.max / 3, maximumMilliseconds: Int.max)
        #expect(b.milliseconds(afterFailures: Int.max) == Int.max)
        #expect(Backoff().milliseconds(afterFailures: 0) == 100)
        #expect(Backoff(initialMilliseconds: 0, maximumMilliseconds: -5).milliseconds(afterFailures: 3) == 1)
    }
}
