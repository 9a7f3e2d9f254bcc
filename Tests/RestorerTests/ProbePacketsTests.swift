import Model
import Restorer
import Testing

@Suite struct ProbePacketsTests {
    static let mac = MACAddress(rawValue: 0x0201_0203_0405)

    @Test func arpWhoHasLayout() throws {
        let target = try #require(IPAddress("10.0.0.2"))
        let sender = try #require(IPAddress("10.0.0.1"))
        let p = ProbePackets.arpRequest(target: target, senderMAC: Self.mac, senderIP: sender)
        #expect(p == [0, 1, 8, 0, 6, 4, 0, 1, 2, 1, 2, 3, 4, 5, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2])
        let anonymous = ProbePackets.arpRequest(target: target, senderMAC: Self.mac, senderIP: nil)
        #expect(anonymous[14..<18] == [0, 0, 0, 0])
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
