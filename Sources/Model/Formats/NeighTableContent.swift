/// The raw `NEIGH_TABLE` state in APPL_DB: consumed entries and the ProducerStateTable
/// operations still pending for orchagent. `snapshot()` gives what the table holds once every
/// pending operation is consumed — the store side the reconciler compares against.
public struct NeighTableContent: Sendable {
    /// `NEIGH_TABLE:<key>` hashes, by `<key>`; nil when the Redis value is not a hash.
    public var table: [String: [String: String]?] = [:]
    /// `_NEIGH_TABLE:<key>` staging hashes, by `<key>`.
    public var staging: [String: [String: String]?] = [:]
    public var keySet: Set<String> = []
    public var delSet: Set<String> = []

    public init() {}

    /// Sorts a database's keys into the four parts. Other tables are ignored.
    public init(appDB values: [String: RedisValue], names: ProducerStateTableNames = .neighTable) {
        let filing = KeyFiling(names)
        for (key, value) in values { add(key, value, filing) }
    }

    /// The eventual table of a `sonic-db-dump -n APPL_DB` file, as `snapshot()` would give it,
    /// without keeping every stored hash on the way (a 50 MB dump held ~200 MB of them). First
    /// pass: the pending operations. Second pass: each consumed entry with no pending operation is
    /// judged at once and dropped; the few with one are kept for `snapshot()` to overlay.
    public static func snapshot(
        dump bytes: some Collection<UInt8>,
        source: String,
        names: ProducerStateTableNames = .neighTable
    ) throws(SnapshotFormatError)
        -> (snapshot: StoreSnapshot, issues: [SnapshotIssue], warnings: [SnapshotIssue])
    {
        let filing = KeyFiling(names)
        var pending = NeighTableContent()
        var repeated: [SnapshotIssue] = []
        let isPending = { (key: String) in filing.holds(key) && !key.hasPrefix(filing.tablePrefix) }
        let first = try RedisDump.read(bytes, source: source, keeping: isPending) { key, value in
            if pending.add(key, value, filing) { repeated.append(RedisDump.repeatedKey(key, source: source)) }
        }
        var snap = StoreSnapshot()
        snap.entries.reserveCapacity(bytes.count / 100)  // a compact sonic-db-dump entry is ~110 bytes
        var issues = first.issues
        let isConsumed = { (key: String) in key.hasPrefix(filing.tablePrefix) }
        let second = try RedisDump.read(bytes, source: source, keeping: isConsumed) { key, value in
            let stored = key.dropFirst(filing.tablePrefix.count)
            if !pending.keySet.isEmpty, pending.keySet.contains(String(stored)) {
                if pending.add(key, value, filing) { repeated.append(RedisDump.repeatedKey(key, source: source)) }
                return
            }
            let hash: [String: String]? = if case .hash(let h) = value { h } else { nil }
            let judged = snap.entries.count + snap.malformedKeys.count
            judge(key: String(stored), hash, source: source, into: &snap, &issues)
            // Every key is filed by `judge` but an empty hash: one that is not is a key seen before.
            if snap.entries.count + snap.malformedKeys.count == judged, hash?.isEmpty != true {
                repeated.append(RedisDump.repeatedKey(key, source: source))
            }
        }
        let overlaid = pending.snapshot(source: source)
        snap.entries.merge(overlaid.snapshot.entries) { _, overlay in overlay }
        snap.malformedKeys.formUnion(overlaid.snapshot.malformedKeys)
        return (snap, issues + second.issues + overlaid.issues, first.warnings + second.warnings + repeated)
    }

    /// The four parts' names, made once rather than per key.
    struct KeyFiling {
        let tablePrefix: String, stagingPrefix: String, keySet: String, delSet: String

        init(_ names: ProducerStateTableNames) {
            (tablePrefix, stagingPrefix) = (names.tablePrefix, names.stagingPrefix)
            (keySet, delSet) = (names.keySet, names.delSet)
        }

        /// Whether a database key belongs to one of the four parts (the rest is ignored).
        func holds(_ key: String) -> Bool {
            key.hasPrefix(tablePrefix) || key.hasPrefix(stagingPrefix) || key == keySet || key == delSet
        }
    }

    /// Files one database key in its part; true when it replaces a value already filed.
    @discardableResult
    mutating func add(_ key: String, _ value: RedisValue, _ filing: KeyFiling) -> Bool {
        let hash: [String: String]? = if case .hash(let h) = value { h } else { nil }
        if key == filing.keySet, case .set(let s) = value {
            let replaced = !keySet.isEmpty
            keySet = s
            return replaced
        } else if key == filing.delSet, case .set(let s) = value {
            let replaced = !delSet.isEmpty
            delSet = s
            return replaced
        } else if key.hasPrefix(filing.stagingPrefix) {
            return staging.updateValue(hash, forKey: String(key.dropFirst(filing.stagingPrefix.count))) != nil
        } else if key.hasPrefix(filing.tablePrefix) {
            return table.updateValue(hash, forKey: String(key.dropFirst(filing.tablePrefix.count))) != nil
        }
        return false
    }

    /// The Redis values again, keyed as APPL_DB names them (the inverse of `init(appDB:)`).
    public func redisValues(names: ProducerStateTableNames = .neighTable) -> [String: RedisValue] {
        var out: [String: RedisValue] = [:]
        for (k, h) in table { out[names.tableKey(k)] = h.map { .hash($0) } ?? .other(type: "unknown") }
        for (k, h) in staging { out[names.stagingKey(k)] = h.map { .hash($0) } ?? .other(type: "unknown") }
        if !keySet.isEmpty { out[names.keySet] = .set(keySet) }
        if !delSet.isEmpty { out[names.delSet] = .set(delSet) }
        return out
    }

    /// The eventual table, with every entry checked. What orchagent's pop does per pending key:
    /// drop the table entry if the key is in the delete set, then copy the staging fields over
    /// (which fails, leaving the value, if that value is not a hash).
    public func snapshot(source: String) -> (snapshot: StoreSnapshot, issues: [SnapshotIssue]) {
        var eventual: [String: [String: String]?] = table
        for key in keySet {
            if delSet.contains(key) { eventual[key] = nil }
            if let pending = staging[key] {
                guard let fields = pending else {
                    eventual[key] = .some(nil)
                    continue
                }
                if fields.isEmpty { continue }
                // The pop HSETs over the consumed value: over one that is not a hash (and not
                // deleted first) it fails with WRONGTYPE, and that value stays.
                if case .some(.none) = eventual[key] { continue }
                var merged = (eventual[key] ?? nil) ?? [:]
                merged.merge(fields) { _, new in new }
                eventual[key] = merged
            }
        }
        var snap = StoreSnapshot()
        snap.entries.reserveCapacity(eventual.count)
        var issues: [SnapshotIssue] = []
        for (key, hash) in eventual { Self.judge(key: key, hash, source: source, into: &snap, &issues) }
        return (snap, issues)
    }

    /// `judge(rawKey:)` for a key and hash held as strings (nil: not a hash).
    static func judge(
        key: String,
        _ hash: [String: String]?,
        source: String,
        into snap: inout StoreSnapshot,
        _ issues: inout [SnapshotIssue]
    ) {
        var text = key
        text.withUTF8 { k in
            let key = UnsafeRawBufferPointer(k)
            guard let fields = hash else { return judge(rawKey: key, .notAHash, source: source, into: &snap, &issues) }
            withUTF8(fields["neigh"]) { neigh in
                withUTF8(fields["family"]) { family in
                    let value = StoredValue.hash(count: fields.count, neigh: neigh, family: family)
                    judge(rawKey: key, value, source: source, into: &snap, &issues)
                }
            }
        }
    }

    private static func withUTF8<R>(_ s: String?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard var s else { return body(nil) }
        return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    /// A stored value, as far as judging it goes.
    public enum StoredValue {
        /// WRONGTYPE: a set, a string, anything but a hash.
        case notAHash
        /// A hash of `count` fields, with its `neigh` and `family` fields as UTF-8 (nil: missing).
        case hash(count: Int, neigh: UnsafeRawBufferPointer?, family: UnsafeRawBufferPointer?)
    }

    /// Judges one stored key and value as orchagent would read them, into `snap`, reporting what
    /// is malformed. The one place these rules live: the general overlay above and the daemon's
    /// APPL_DB reader (which passes hiredis's bytes) both call it.
    public static func judge(
        rawKey: UnsafeRawBufferPointer,
        _ value: StoredValue,
        source: String,
        into snap: inout StoreSnapshot,
        _ issues: inout [SnapshotIssue]
    ) {
        // A key must be exactly what we would write (inet_ntop text), or it is never matched.
        guard let key = NeighborKey(canonicalUTF8: rawKey) else {
            // Deleting goes by name, and names here are text: a key that is not UTF-8 would be
            // deleted as its lossy decoding, a key that does not exist (or another entry's).
            guard let raw = String(validating: rawKey, as: UTF8.self) else {
                issues.append(
                    SnapshotIssue(
                        source: source,
                        item: escapedBytes(rawKey),
                        reason: "key is not UTF-8; left in place (delete it by hand)"
                    )
                )
                return
            }
            snap.malformedKeys.insert(raw)
            let reason = "key is not <ifname>:<inet_ntop ip>; will be deleted"
            issues.append(SnapshotIssue(source: source, item: raw, reason: reason, isRepaired: true))
            return
        }
        guard case .hash(let count, let neigh, let family) = value else {
            snap.entries[key] = .malformed
            let reason = "value is not a hash; will be repaired"
            issues.append(SnapshotIssue(source: source, item: key.description, reason: reason, isRepaired: true))
            return
        }
        if count == 0 { return }  // upstream skips empty hashes too (or the key went away since a SCAN)
        switch entry(neigh: neigh, family: family, for: key) {
        case .success(let e): snap.entries[key] = .valid(e)
        case .failure(let why):
            snap.entries[key] = .malformed
            let reason = "\(why.text); will be repaired"
            issues.append(SnapshotIssue(source: source, item: key.description, reason: reason, isRepaired: true))
        }
    }

    /// Why a stored hash is not a usable entry.
    struct Reason: Error, Sendable { let text: String }

    /// Checks a stored hash's `neigh` and `family` fields, given as UTF-8 bytes (nil: missing),
    /// the way orchagent would read them for this key.
    static func entry(
        neigh: UnsafeRawBufferPointer?,
        family: UnsafeRawBufferPointer?,
        for key: NeighborKey
    ) -> Result<NeighborEntry, Reason> {
        guard let neigh else { return .failure(Reason(text: "missing field \"neigh\"")) }
        guard let mac = MACAddress(utf8: neigh) else {
            return .failure(Reason(text: "bad MAC \"\(String(decoding: neigh, as: UTF8.self))\""))
        }
        guard let family else { return .failure(Reason(text: "missing field \"family\"")) }
        let fam = String(decoding: family, as: UTF8.self)
        guard let f = AddressFamily(fieldValue: fam) else { return .failure(Reason(text: "bad family \"\(fam)\"")) }
        guard f == key.ip.family else {
            return .failure(Reason(text: "family \(fam) does not match the key's address"))
        }
        return .success(NeighborEntry(mac: mac, family: f))
    }
}
