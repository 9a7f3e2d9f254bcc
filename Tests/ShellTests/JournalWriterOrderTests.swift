import Model
import PropertyBased
import Testing

@testable import Shell

/// `JournalWriter` writes the `batchWritten` records of a queue before the acknowledgements queued
/// ahead of them; replaying either order must give the same journal image.
@Suite struct JournalWriterOrderTests {
    static let keys = (0..<6).map {
        NeighborKey(interface: InterfaceName("Ethernet\($0 % 2)")!, ip: IPAddress(ipv4: UInt32($0)))
    }

    /// Records as the core emits them: batches on disjoint keys while in flight, each written before
    /// it is applied, store reloads and dumps in between.
    static func records(_ values: [UInt32]) -> [JournalRecord] {
        var out: [JournalRecord] = []
        var inFlight: [Batch] = []
        var nextID: UInt64 = 1
        for v in values {
            switch v % 5 {
            case 0, 1:
                let busy = Set(inFlight.flatMap { $0.changes.map(\.keyText) })
                let free = keys.filter { !busy.contains($0.description) }
                guard !free.isEmpty else { continue }
                let k = free[Int(v >> 3) % free.count]
                let change: Change =
                    v & 4 == 0
                    ? .set(k, NeighborEntry(mac: MACAddress(rawValue: UInt64(v)), family: .ipv4)) : .del(k)
                let b = Batch(id: nextID, changes: [change])
                nextID += 1
                inFlight.append(b)
                out.append(.batchWritten(b))
            case 2, 3:
                guard !inFlight.isEmpty else { continue }
                out.append(.batchApplied(inFlight.remove(at: Int(v >> 3) % inFlight.count)))
            default:
                if v & 8 == 0 {
                    out.append(.storeReloaded(StoreSnapshot()))
                    inFlight = []
                } else {
                    out.append(.desiredReplaced([DesiredEntry(keys[0], NeighborEntry(mac: .zero, family: .ipv4))]))
                }
            }
        }
        return out
    }

    static func replay(_ records: [JournalRecord]) -> JournalImage {
        var image = JournalImage.empty
        for r in records { image.apply(r) }
        image.inFlight.sort { $0.id < $1.id }
        return image
    }

    @Test func writingOrderReplaysToTheSameImage() async {
        await propertyCheck(count: 1_000, input: Gen.uint32(in: 0...UInt32.max).array(of: 0...40)) { values in
            let records = Self.records(values)
            let order = JournalWriter.writingOrder(records)
            #expect(order.sorted() == Array(records.indices))
            #expect(Self.replay(order.map { records[$0] }) == Self.replay(records), "\(records)")
        }
        print("property \(#function): 1000 generated cases checked")
    }
}
