import Glibc
import Model
import Testing

@testable import Restorer

@Suite struct ProbePacketsTests {
    static let mac = MACAddress(rawValue: 0x0201_0203_0405)

    @Test func arpWhoHasLayout() throws {
        let target = try #require(IPAddress("10.0.0.2"))
        let sender = try #require(IPAddress("10.0.0.1"))
        let p = ProbePackets.arpRequest(target: target, senderMAC: Self.mac, senderIP: sender)
        #expect(p == [0, 1, 8, 0, 6, 4, 0, 1, 2, 1, 2, 3, 4, 5, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2])
    }

    @Test func solicitedNodeAndNeighborSolicitation() throws {
        let target = try #require(IPAddress("fc00::12:3456:789a"))
        #expect(ProbePackets.solicitedNode(of: target).description == "ff02::1:ff56:789a")
        let ns = ProbePackets.neighborSolicitation(target: target, senderMAC: Self.mac)
        #expect(ns.count == 32)
        #expect(ns[0..<8] == [135, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(ns[8..<24]) == target.bytes)
        #expect(ns[24..<32] == [1, 1, 2, 1, 2, 3, 4, 5])
    }

    /// The NS leaves from the interface's address: one IPV6_PKTINFO control message naming it.
    @Test func packetInfoNamesSourceAndInterface() throws {
        let source = try #require(IPAddress("fe80::1"))
        let control = NeighborProber.packetInfo(source: source, ifindex: 7)
        #expect(control.count == 40)  // CMSG_SPACE(sizeof(struct in6_pktinfo))
        #expect(control[0..<8] == [36, 0, 0, 0, 0, 0, 0, 0])  // CMSG_LEN(20), little-endian size_t
        #expect(control[8..<16] == [41, 0, 0, 0, 50, 0, 0, 0])  // IPPROTO_IPV6, IPV6_PKTINFO
        #expect(Array(control[16..<32]) == source.bytes)
        #expect(control[32..<36] == [7, 0, 0, 0])
    }

    @Test func pacerAllowsBurstThenSpacesByRate() {
        var pacer = ProbePacer(perSecond: 100, burst: 3)
        let t0 = ContinuousClock.now
        #expect((0..<3).map { _ in pacer.reserve(at: t0) } == [.zero, .zero, .zero])
        // The fourth at the same instant waits one token's time (10 ms); the fifth two.
        #expect(pacer.reserve(at: t0) == .milliseconds(10))
        #expect(pacer.reserve(at: t0) == .milliseconds(20))
        // A second later the bucket is full again (capped at the burst).
        let t1 = t0 + .seconds(1)
        #expect((0..<3).map { _ in pacer.reserve(at: t1) } == [.zero, .zero, .zero])
        #expect(pacer.reserve(at: t1) > .zero)
    }
}

@Suite struct NeighborProberTests {
    /// A family whose socket cannot open (ICMPv6 with ipv6.disable=1: EAFNOSUPPORT) is not probed;
    /// the other family still is.
    @Test func aFamilyWithoutItsSocketIsNotProbed() throws {
        let prober = NeighborProber { family throws(RestoreError) in
            guard family == .ipv4 else { throw RestoreError(operation: "socket(AF_INET6)", errno: EAFNOSUPPORT) }
            return open("/dev/null", O_WRONLY)
        }
        #expect(prober.canProbe(.ipv4))
        #expect(!prober.canProbe(.ipv6))
        #expect(prober.unavailable[.ipv6]?.errno == EAFNOSUPPORT)
        #expect(prober.unavailable[.ipv4] == nil)
        let target = try #require(IPAddress("fc00::2"))
        let source = ProbeSource(ifindex: 1, mac: MACAddress(rawValue: 1), ip: target)
        #expect(prober.probe(target, from: source) == EAFNOSUPPORT)
    }

    /// The ICMPv6 socket is never read: it blocks every type, or it queues all ICMPv6 it sees.
    @Test func icmpSocketBlocksEveryType() throws {
        let fd = try NeighborProber.openICMPv6()
        defer { close(fd) }
        var filter = [UInt32](repeating: 0, count: 8)
        var size = socklen_t(32)
        #expect(getsockopt(fd, Int32(IPPROTO_ICMPV6), NeighborProber.icmp6Filter, &filter, &size) == 0)
        #expect(filter == [UInt32](repeating: .max, count: 8))
    }
}
