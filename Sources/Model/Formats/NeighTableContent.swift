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
        for (key, value) in values {
            let hash: [String: String]? = if case .hash(let h) = value { h } else { nil }
            if key == names.keySet, case .set(let s) = value {
                keySet = s
            } else if key == names.delSet, case .set(let s) = value {
                delSet = s
            } else if key.hasPrefix(names.stagingPrefix) {
                staging[String(key.dropFirst(names.stagingPrefix.count))] = hash
            } else if key.hasPrefix(names.tablePrefix) {
                table[String(key.dropFirst(names.tablePrefix.count))] = hash
            }
        }
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
    /// drop the table entry if the key is in the delete set, then copy the staging fields over.
    public func snapshot(source: String) -> (snapshot: StoreSnapshot, issues: [SnapshotIssue]) {
        var eventual: [String: [String: String]?] = table
        for key in keySet {
            if delSet.contains(key) { eventual[key] = nil }
            if let pending = staging[key] {
                guard let fields = pending else { eventual[key] = .some(nil); continue }
                if fields.isEmpty { continue }
                var merged = (eventual[key] ?? nil) ?? [:]
                merged.merge(fields) { _, new in new }
                eventual[key] = merged
            }
        }
        var snap = StoreSnapshot()
        snap.entries.reserveCapacity(eventual.count)
        var issues: [SnapshotIssue] = []
        for (raw, hash) in eventual {
            var text = raw
            text.withUTF8 { k in
                let key = UnsafeRawBufferPointer(k)
                guard let fields = hash else { return Self.judge(rawKey: key, .notAHash, source: source, into: &snap, &issues) }
                Self.withUTF8(fields["neigh"]) { neigh in
                    Self.withUTF8(fields["family"]) { family in
                        Self.judge(rawKey: key, .hash(count: fields.count, neigh: neigh, family: family), source: source, into: &snap, &issues)
                    }
                }
            }
        }
        return (snap, issues)
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
    public static func judge(rawKey: UnsafeRawBufferPointer, _ value: StoredValue, source: String,
                             into snap: inout StoreSnapshot, _ issues: inout [SnapshotIssue]) {
        // A key must be exactly what we would write (inet_ntop text), or it is never matched.
        guard let key = NeighborKey(canonicalUTF8: rawKey) else {
            // Deleting goes by name, and names here are text: a key that is not UTF-8 would be
            // deleted as its lossy decoding, a key that does not exist (or another entry's).
            guard let raw = String(validating: rawKey, as: UTF8.self) else {
                issues.append(SnapshotIssue(source: source, item: escapedBytes(rawKey),
                                            reason: "key is not UTF-8; left in place (delete it by hand)"))
                return
            }
            snap.malformedKeys.insert(raw)
            issues.append(SnapshotIssue(source: source, item: raw, reason: "key is not <ifname>:<inet_ntop ip>; will be deleted"))
            return
        }
        guard case .hash(let count, let neigh, let family) = value else {
            snap.entries[key] = .malformed
            issues.append(SnapshotIssue(source: source, item: key.description, reason: "value is not a hash; will be repaired"))
            return
        }
        if count == 0 { return }   // upstream skips empty hashes too (or the key went away since a SCAN)
        switch entry(neigh: neigh, family: family, for: key) {
        case .success(let e): snap.entries[key] = .valid(e)
        case .failure(let why):
            snap.entries[key] = .malformed
            issues.append(SnapshotIssue(source: source, item: key.description, reason: "\(why.text); will be repaired"))
        }
    }

    /// Why a stored hash is not a usable entry.
    struct Reason: Error, Sendable { let text: String }

    /// Checks a stored hash's `neigh` and `family` fields, given as UTF-8 bytes (nil: missing),
    /// the way orchagent would read them for this key.
    static func entry(neigh: UnsafeRawBufferPointer?, family: UnsafeRawBufferPointer?, for key: NeighborKey) -> Result<NeighborEntry, Reason> {
        guard let neigh else { return .failure(Reason(text: "missing field \"neigh\"")) }
        guard let mac = MACAddress(utf8: neigh) else { return .failure(Reason(text: "bad MAC \"\(String(decoding: neigh, as: UTF8.self))\"")) }
        guard let family else { return .failure(Reason(text: "missing field \"family\"")) }
        let fam = String(decoding: family, as: UTF8.self)
        guard let f = AddressFamily(fieldValue: fam) else { return .failure(Reason(text: "bad family \"\(fam)\"")) }
        guard f == key.ip.family else { return .failure(Reason(text: "family \(fam) does not match the key's address")) }
        return .success(NeighborEntry(mac: mac, family: f))
    }
}
