import Foundation
import Model
import NetNamespace
import Restorer
import Testing

/// The installer against the real kernel, in a private namespace.
@Suite(.serialized) struct KernelInstallerTests {
    static func neighbors(_ interface: String, count: Int) -> [NeighborKey: NeighborEntry] {
        var out: [NeighborKey: NeighborEntry] = [:]
        for i in 0..<count {
            let ip = IPAddress(ipv4: 0x0A00_0000 | UInt32(i + 2))
            guard let name = InterfaceName(interface) else { continue }
            out[NeighborKey(interface: name, ip: ip)] = NeighborEntry(
                mac: MACAddress(rawValue: 0x0200_0000_0000 | UInt64(i)),
                family: .ipv4
            )
        }
        return out
    }

    /// Lines of `ip neigh show nud all dev <if>` in state `state`, NOARP multicast entries excluded.
    static func shown(_ ns: Namespace, _ interface: String, state: String) throws -> [String] {
        try ns.ip("neigh", "show", "nud", "all", "dev", interface).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasSuffix(state) }
    }

    @Test func installsBatchesAsStaleAndTakesEEXISTAsDone() throws {
        let ns = try Namespace(what: "restore")
        try ns.ip("link", "add", "Ethernet0", "type", "veth", "peer", "name", "peer0")
        try ns.ip("link", "add", "Vlan1000", "type", "bridge")
        for l in ["Ethernet0", "peer0", "Vlan1000"] { try ns.ip("link", "set", l, "up") }
        guard let eth = InterfaceName("Ethernet0"), let vlan = InterfaceName("Vlan1000") else { return }
        // More than one batch on Ethernet0 (batch of 64), one on the bridge.
        let onEth = Self.neighbors("Ethernet0", count: 300)
        var onVlan: [NeighborKey: NeighborEntry] = [:]
        if let ip = IPAddress("fc00::2"), let mac = MACAddress("00:01:02:03:04:05") {
            onVlan[NeighborKey(interface: vlan, ip: ip)] = NeighborEntry(mac: mac, family: .ipv6)
        }
        let (first, second, bridge) = try ns.inside {
            let installer = try KernelInstaller(batchSize: 64)
            return (
                try installer.install(onEth, on: eth), try installer.install(onEth, on: eth),
                try installer.install(onVlan, on: vlan)
            )
        }
        #expect(first.count == 300 && first.values.allSatisfy { $0 == .installed })
        #expect(second.count == 300 && second.values.allSatisfy { $0 == .installed })  // EEXIST
        #expect(bridge.values.map { $0 } == [.installed])
        #expect(try Self.shown(ns, "Ethernet0", state: "STALE").count == 300)
        let line = try ns.ip("neigh", "show", "nud", "all", "dev", "Ethernet0", "to", "10.0.0.2")
        #expect(line.contains("lladdr 02:00:00:00:00:00") && line.contains("STALE"))
        #expect(
            try ns.ip("neigh", "show", "nud", "all", "dev", "Vlan1000").contains("fc00::2 lladdr 00:01:02:03:04:05")
        )
    }

    /// The kernel takes neighbors on a link that is down (readiness is the planner's job, by
    /// carrier); an interface that does not exist fails its entries with ENODEV, and no others.
    @Test func missingInterfaceFailsItsEntries() throws {
        let ns = try Namespace(what: "restore")
        try ns.ip("link", "add", "Ethernet4", "type", "veth", "peer", "name", "peer4")
        guard let eth = InterfaceName("Ethernet4"), let gone = InterfaceName("Ethernet8") else { return }
        let entries = Self.neighbors("Ethernet4", count: 3)
        let moved = Dictionary(
            uniqueKeysWithValues: entries.map { (NeighborKey(interface: gone, ip: $0.key.ip), $0.value) }
        )
        let (missing, present) = try ns.inside {
            let installer = try KernelInstaller()
            return (try installer.install(moved, on: gone), try installer.install(entries, on: eth))
        }
        #expect(missing.count == 3 && missing.values.allSatisfy { $0 == .failed(errno: ENODEV) })
        #expect(present.count == 3 && present.values.allSatisfy { $0 == .installed })
        #expect(try Self.shown(ns, "Ethernet4", state: "STALE").count == 3)
    }
}

/// The installer's handling of acks, against a fake transport: each test says how a broken
/// installer would fail it.
struct KernelInstallerAckTests {
    typealias Fake = FakeInstallerTransport
    static let entries = KernelInstallerTests.neighbors("Ethernet0", count: 8)

    /// The key whose request went out with `sequence`.
    static func key(_ fake: Fake, _ sequence: UInt32) -> NeighborKey? {
        guard let ip = fake.destinations[sequence], let name = InterfaceName("Ethernet0") else { return nil }
        return NeighborKey(interface: name, ip: IPAddress(ipv4: ip))
    }

    static func install(_ fake: Fake, batchSize: Int = 512) throws -> [NeighborKey: InstallOutcome] {
        try KernelInstaller(transport: fake, batchSize: batchSize, ackTimeoutMilliseconds: 0)
            .install(entries, ifindex: 7)
    }

    @Test func everyAckedRequestIsInstalled() throws {
        let fake = Fake(answer: Fake.acks)
        let outcomes = try Self.install(fake)
        #expect(outcomes.count == 8 && outcomes.values.allSatisfy { $0 == .installed })
        #expect(fake.sentSequences.count == 1 && fake.sentSequences[0].count == 8)
    }

    /// An installer that took the send as success would report the unacked one installed.
    @Test func aLostAckIsRetried() throws {
        let fake = Fake { Fake.acks($0.filter { $0 != 3 }) }
        let outcomes = try Self.install(fake)
        let lost = try #require(Self.key(fake, 3))
        #expect(outcomes[lost] == .retry)
        #expect(outcomes.filter { $0.value == .installed }.count == 7)
    }

    /// An installer that read only the first error, or applied it to the whole batch, fails this.
    @Test func aRefusalInTheMiddleFailsOnlyItsKey() throws {
        let fake = Fake { sequences in
            sequences.map { .datagram(Fake.ack($0, errno: $0 == 4 ? EINVAL : 0)) }
        }
        let outcomes = try Self.install(fake, batchSize: 3)  // 3 batches: the refusal in the second
        let refused = try #require(Self.key(fake, 4))
        #expect(fake.sentSequences.count == 3)
        #expect(outcomes[refused] == .failed(errno: EINVAL))
        #expect(outcomes.filter { $0.value == .installed }.count == 7)
    }

    /// Acks matched by position rather than by sequence would put the refusal on the wrong key;
    /// a duplicate counted as an answer would end the wait before the last ack; a foreign
    /// sequence (a late ack of an earlier batch) must change nothing.
    @Test func reorderedDuplicateAndForeignAcksAreMatchedBySequence() throws {
        let fake = Fake { sequences in
            var out: [Fake.Queued] = [.datagram(Fake.ack(9_999, errno: EPERM))]
            for s in sequences.reversed() {
                out.append(.datagram(Fake.ack(s, errno: s == 2 ? EINVAL : 0)))
                // The same answer twice, the second one contradicting the first.
                if s == 5 { out.append(.datagram(Fake.ack(s, errno: EPERM))) }
            }
            return out
        }
        let outcomes = try Self.install(fake)
        let refused = try #require(Self.key(fake, 2))
        let twice = try #require(Self.key(fake, 5))
        #expect(outcomes.count == 8)
        #expect(outcomes[refused] == .failed(errno: EINVAL))
        #expect(outcomes[twice] == .installed)
        #expect(outcomes.filter { $0.value == .installed }.count == 7)
    }

    /// A datagram longer than the installer's 64 KiB buffer, its third ack across the end:
    /// `recv(MSG_TRUNC)` reads what fits and gives the whole length. An installer that parsed
    /// that length would read past its buffer (a crash); one that took the cut ack would report
    /// it installed.
    @Test func aTruncatedDatagramIsReadOnlyAsFarAsItGoes() throws {
        let fake = Fake { sequences in
            let buffer = 64 * 1024
            let head = Fake.ack(sequences[0]) + Fake.ack(sequences[1])
            let filler = Fake.noop(length: buffer - 20 - head.count)  // the third ack starts 20 bytes before the end
            let datagram = head + filler + Fake.ack(sequences[2]) + Fake.noop(length: 4096)
            return [.datagram(datagram)] + Fake.acks(Array(sequences.dropFirst(3)))
        }
        let outcomes = try Self.install(fake)
        let cut = try #require(Self.key(fake, 3))
        #expect(outcomes[cut] == .retry)
        #expect(outcomes.filter { $0.value == .installed }.count == 7)
    }

    /// ENOBUFS on receive means acks were dropped: an installer that threw would abandon the
    /// restore; one that treated the batch as done would report the dropped ones installed.
    @Test func enobufsRetriesTheDroppedAcksOnly() throws {
        let fake = Fake { sequences in
            Fake.acks(Array(sequences.prefix(5))) + [.error(ENOBUFS)] + Fake.acks([sequences[7]])
        }
        let outcomes = try Self.install(fake)
        #expect(outcomes.filter { $0.value == .retry }.count == 2)
        #expect(outcomes.filter { $0.value == .installed }.count == 6)
    }

    /// A poll that fails is not a timeout: the installer says so instead of retrying blindly.
    @Test func aPollErrorIsThrown() throws {
        let fake = Fake { Fake.acks(Array($0.prefix(2))) }
        fake.emptyWait = -EBADF
        #expect(throws: RestoreError(operation: "poll(rtnetlink acks)", errno: EBADF)) { try Self.install(fake) }
    }

    /// Acks drain without a poll per ack: one wait only when the queue runs dry.
    @Test func acksAreDrainedWithoutAPollEach() throws {
        let fake = Fake(answer: Fake.acks)
        _ = try Self.install(fake)
        #expect(fake.waits == 0)
    }

    /// A send the kernel took only in part, or refused, fails the batch with an error, not silence.
    @Test func aShortOrFailedSendIsThrown() throws {
        let short = Fake(answer: Fake.acks)
        short.sendResult = 16
        #expect(throws: RestoreError.self) { try Self.install(short) }
        let refused = Fake(answer: Fake.acks)
        refused.sendResult = -Int(ENOBUFS)
        #expect(throws: RestoreError(operation: "sendto(RTM_NEWNEIGH batch)", errno: ENOBUFS)) {
            try Self.install(refused)
        }
    }
}
