import Model
import Reconciler
import StoreObserver
import Testing

/// orchagent pops while the daemon reads the table back (a verifying read runs beside the
/// writes and the consumer): whatever it popped between the reader's two parts, the read must
/// show what the table holds once everything pending is consumed.
@Suite struct StoreReaderPopRaceTests {
    static let count = 1_000

    /// A private redis-server, its table written (and, if `consumed`, popped) as `first`, then
    /// `second` written and left pending; the reader runs with a full drain between its parts.
    static func readWithDrainBetweenParts(
        first: [NeighborKey: NeighborEntry],
        second: [Change],
        afterTheKeySet: Bool = false
    ) throws -> (StoreSnapshot, [SnapshotIssue]) {
        let server = try RedisServer()
        let c = try server.connect()
        let writer = ProducerStateTable(connection: c)
        let consumer = ConsumerStateTable(connection: try server.connect())
        try writer.write(Batch(id: 1, changes: diff(desired: first, actual: StoreSnapshot()).changes))
        try consumer.drain()
        try writer.write(Batch(id: 2, changes: second))
        var drained = 0
        let drain = { drained = (try? consumer.drain()) ?? -1 }
        let read =
            afterTheKeySet
            ? try StoreReader.snapshot(c, afterPendingKeySet: drain) : try StoreReader.snapshot(c, betweenReads: drain)
        #expect(drained == second.count)
        return read
    }

    /// `afterTheKeySet`: the pops fall between the pending key set and the keys' own reads.
    @Test(arguments: [false, true]) func setsPoppedDuringTheReadAreSeen(afterTheKeySet: Bool) throws {
        let desired = ProducerStateTableTests.table(Self.count)
        let second = diff(desired: desired, actual: StoreSnapshot()).changes
        let (snap, issues) = try Self.readWithDrainBetweenParts(
            first: [:],
            second: second,
            afterTheKeySet: afterTheKeySet
        )
        #expect(issues.isEmpty)
        #expect(snap.entries.count == Self.count)
        let seen = snap == StoreSnapshot(valid: desired)
        #expect(seen)
    }

    @Test(arguments: [false, true]) func delsPoppedDuringTheReadAreSeen(afterTheKeySet: Bool) throws {
        let first = ProducerStateTableTests.table(Self.count)
        let second = first.keys.map { Change.del($0) }
        let (snap, issues) = try Self.readWithDrainBetweenParts(
            first: first,
            second: second,
            afterTheKeySet: afterTheKeySet
        )
        #expect(issues.isEmpty)
        #expect(snap.entries.count == 0)
    }

    @Test(arguments: [false, true]) func macChangesPoppedDuringTheReadAreSeen(afterTheKeySet: Bool) throws {
        let first = ProducerStateTableTests.table(Self.count)
        let desired = ProducerStateTableTests.table(Self.count, salt: 0xff)
        let second = diff(desired: desired, actual: StoreSnapshot(valid: first)).changes
        let (snap, issues) = try Self.readWithDrainBetweenParts(
            first: first,
            second: second,
            afterTheKeySet: afterTheKeySet
        )
        #expect(issues.isEmpty)
        let seen = snap == StoreSnapshot(valid: desired)
        #expect(seen)
    }
}
