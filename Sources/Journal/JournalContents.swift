import CSQLite
import Model

/// Reads what a journal file holds, for the daemon's writer and for the read-only commands alike.
///
/// Everything in the file is untrusted: a column of the wrong type, a count the BLOB cannot hold,
/// a negative batch number or a record that does not decode is a `corrupt` journal, never a crash
/// and never a reservation sized by a number nobody checked.
struct JournalContents {
    let db: Database
    let path: String

    /// The records in the store view and in the deltas since it, each count checked against its
    /// BLOB (the compaction trigger and the capacity reserved for the replay).
    func storeRecordCounts() throws(JournalError) -> (view: Int, deltas: Int) {
        var view = 0
        var deltas = 0
        try db.prepare("SELECT records, count FROM view WHERE name = 'actual'").rows { r throws(JournalError) in
            view = try boundedCount(r, "store view")
        }
        try db.prepare("SELECT records, count, batch FROM delta").rows { r throws(JournalError) in
            let (sum, overflow) = deltas.addingReportingOverflow(try boundedCount(r, "delta of batch \(r.int(2))"))
            guard !overflow else { throw corrupt("the deltas claim more records than can be counted") }
            deltas = sum
        }
        return (view, deltas)
    }

    /// The journaled image. The store view is its BLOB with every delta applied in order, by the
    /// same `StoreSnapshot.apply` the core uses. The desired view is the last dump's with every
    /// batch written since applied to it (a batch carries the desired entry of each of its keys),
    /// so it is as recent as the store view; the daemon derives its own from the next dump and
    /// skips it (`includingDesired: false`).
    func load(includingDesired: Bool) throws(JournalError) -> JournalImage {
        var image = JournalImage()
        image.actual = try storeView()
        try db.prepare("SELECT batch, records, count FROM inflight ORDER BY batch").rows { r throws(JournalError) in
            let id = try batchID(r, 0, "batch in flight")
            image.inFlight.append(Batch(id: id, changes: try changes(r, blob: 1, "batch \(id) in flight")))
        }
        try db.prepare("SELECT value FROM meta WHERE key = 'last_batch'").rows { r throws(JournalError) in
            guard let id = r.text(0).flatMap({ UInt64($0) }) else { throw corrupt("meta last_batch: not a number") }
            image.lastBatchID = id
        }
        if includingDesired { image.desired = try desiredView() }
        return image
    }

    /// The last dump's desired view brought up to the last batch written (before any dump, the
    /// batches alone, like `JournalImage.apply`).
    func desiredView() throws(JournalError) -> [NeighborKey: NeighborEntry] {
        var desired: [NeighborKey: NeighborEntry] = [:]
        try db.prepare("SELECT records, count FROM view WHERE name = 'desired'").rows { r throws(JournalError) in
            desired.reserveCapacity(try boundedCount(r, "desired view"))
            try decode(r, "desired view") { item in
                guard case .set(let k, let e) = item else { return false }
                desired[k] = e
                return true
            }
        }
        for b in try batchesSinceDesired() { desired.apply(b) }
        return desired
    }

    /// Whether a kernel dump was ever recorded: without one the desired view is not the kernel's.
    func hasDump() throws(JournalError) -> Bool {
        var found = false
        try db.prepare("SELECT 1 FROM meta WHERE key = 'last_dump_at'").rows { _ in found = true }
        return found
    }

    /// The batches written after the desired view was recorded, in order: the acknowledged ones
    /// (deltas) and those in flight.
    func batchesSinceDesired() throws(JournalError) -> [Batch] {
        var after: UInt64 = 0
        try db.prepare("SELECT value FROM meta WHERE key = 'desired_batch'").rows { r throws(JournalError) in
            guard let id = r.text(0).flatMap({ UInt64($0) }) else { throw corrupt("meta desired_batch: not a number") }
            after = id
        }
        var batches: [UInt64: Batch] = [:]
        for table in ["delta", "inflight"] {
            let query = try db.prepare("SELECT batch, records, count FROM \(table) WHERE batch > ?1")
            try query.bound(Int64(bitPattern: after)).rows { r throws(JournalError) in
                let id = try batchID(r, 0, "batch in \(table)")
                batches[id] = Batch(id: id, changes: try changes(r, blob: 1, "batch \(id) in \(table)"))
            }
        }
        return batches.keys.sorted().compactMap { batches[$0] }
    }

    func storeView() throws(JournalError) -> StoreSnapshot {
        var actual = StoreSnapshot()
        let counts = try storeRecordCounts()
        actual.entries.reserveCapacity(counts.view + counts.deltas)
        try db.prepare("SELECT records, count FROM view WHERE name = 'actual'").rows { r throws(JournalError) in
            try decode(r, "store view") { item in
                switch item {
                case .set(let k, let e): actual.entries[k] = .valid(e)
                case .malformedEntry(let k): actual.entries[k] = .malformed
                case .malformedKey(let raw): actual.malformedKeys.insert(raw)
                case .del: return false
                }
                return true
            }
        }
        try db.prepare("SELECT batch, records, count FROM delta ORDER BY seq").rows { r throws(JournalError) in
            let id = try batchID(r, 0, "delta")
            actual.apply(Batch(id: id, changes: try changes(r, blob: 1, "delta of batch \(id)")))
        }
        return actual
    }

    /// Metadata for `status`: created, last_batch, last_applied_at, last_dump_at.
    func metadata() throws(JournalError) -> [String: String] {
        var m: [String: String] = [:]
        try db.prepare("SELECT key, value FROM meta").rows { r in if let k = r.text(0), let v = r.text(1) { m[k] = v } }
        return m
    }

    func corrupt(_ what: String) -> JournalError { JournalError(kind: .corrupt, message: "\(path): \(what)") }

    /// A batch number: an INTEGER column, not negative.
    private func batchID(_ r: Row, _ column: Int32, _ what: String) throws(JournalError) -> UInt64 {
        guard r.type(column) == SQLITE_INTEGER, let id = UInt64(exactly: r.int(column)) else {
            throw corrupt("\(what): batch number \(r.text(column) ?? "NULL") is not a batch number")
        }
        return id
    }

    /// The `count` column (right after the BLOB at `blob`), checked: an INTEGER, not negative, and
    /// no more records than the BLOB has room for.
    private func boundedCount(_ r: Row, blob: Int32 = 0, _ what: String) throws(JournalError) -> Int {
        guard r.type(blob) == SQLITE_BLOB, r.type(blob + 1) == SQLITE_INTEGER else {
            throw corrupt("\(what): records or count has the wrong type")
        }
        let count = r.int(blob + 1)
        let room = Int64(r.byteCount(blob) / Records.minimumRecordBytes)
        guard count >= 0, count <= room else {
            throw corrupt("\(what) claims \(count) records; its \(r.byteCount(blob)) bytes hold at most \(room)")
        }
        return Int(count)
    }

    /// Decodes one BLOB whose count follows it: a damaged BLOB, a record that does not belong in
    /// it, or a count other than the records decoded is a `corrupt` journal.
    private func decode(
        _ r: Row,
        blob: Int32 = 0,
        _ what: String,
        _ accept: (Records.Item) -> Bool
    )
        throws(JournalError)
    {
        let count = try boundedCount(r, blob: blob, what)
        var decoded = 0
        do {
            try r.blob(blob) { buf throws(Records.Damaged) in
                try Records.forEach(in: buf) { item in
                    decoded += 1
                    return accept(item)
                }
            }
        } catch {
            throw corrupt("\(what) is damaged")
        }
        guard decoded == count else { throw corrupt("\(what) holds \(decoded) records; its count says \(count)") }
    }

    private func changes(_ r: Row, blob: Int32, _ what: String) throws(JournalError) -> [Change] {
        var out: [Change] = []
        out.reserveCapacity(try boundedCount(r, blob: blob, what))
        try decode(r, blob: blob, what) { item in
            switch item {
            case .set(let k, let e): out.append(.set(k, e))
            case .del(let k): out.append(.del(k))
            case .malformedKey(let raw): out.append(.delMalformed(raw))
            case .malformedEntry: return false
            }
            return true
        }
        return out
    }
}
