import Model

/// A deterministic stream of journal records: `neighsyncd-crash-tester journal-exercise` writes
/// it and `CrashTests` kills that at random points, then checks what the journal replays to.
public enum JournalExercise {
    /// Batch `n` (from 1): sets 10 neighbors with MAC `n`, deletes the 10 that batch `n - 2` set.
    public static func batch(_ n: Int) -> Batch {
        var changes: [Change] = (0..<10).map { i in
            .set(key(n * 10 + i), NeighborEntry(mac: MACAddress(rawValue: UInt64(n)), family: .ipv4))
        }
        if n > 2 { changes += (0..<10).map { i in .del(key((n - 2) * 10 + i)) } }
        return Batch(id: UInt64(n), changes: changes)
    }

    /// The records of the first `n` batches, each written then applied.
    public static func records(batches n: Int) -> [JournalRecord] {
        (1...max(n, 1)).prefix(n).flatMap { [.batchWritten(batch($0)), .batchApplied(batch($0))] }
    }

    static func key(_ i: Int) -> NeighborKey {
        NeighborKey(interface: InterfaceName("Ethernet\(i % 16)")!, ip: IPAddress(ipv4: 0x0A00_0000 | UInt32(i)))
    }
}
