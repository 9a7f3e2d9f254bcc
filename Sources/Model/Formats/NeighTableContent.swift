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
            guard let key = text.withUTF8({ NeighborKey(canonicalUTF8: UnsafeRawBufferPointer($0)) }) else {
                snap.malformedKeys.insert(raw)
                issues.append(SnapshotIssue(source: source, item: raw, reason: Self.badKey))
                continue
            }
            guard let fields = hash else {
                snap.entries[key] = .malformed
                issues.append(SnapshotIssue(source: source, item: raw, reason: Self.notAHash))
                continue
            }
            if fields.isEmpty { continue }   // upstream skips empty hashes too
            switch Self.entry(fields, for: key) {
            case .success(let e): snap.entries[key] = .valid(e)
            case .failure(let why):
                snap.entries[key] = .malformed
                issues.append(SnapshotIssue(source: source, item: raw, reason: "\(why.text); will be repaired"))
            }
        }
        return (snap, issues)
    }

    public static let badKey = "key is not <ifname>:<inet_ntop ip>; will be deleted"
    public static let notAHash = "value is not a hash; will be repaired"

    /// Why a stored hash is not a usable entry.
    public struct Reason: Error, Sendable { public let text: String }

    static func entry(_ fields: [String: String], for key: NeighborKey) -> Result<NeighborEntry, Reason> {
        withUTF8(fields["neigh"]) { n in withUTF8(fields["family"]) { f in entry(neigh: n, family: f, for: key) } }
    }

    private static func withUTF8<R>(_ s: String?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard var s else { return body(nil) }
        return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    /// Checks a stored hash's `neigh` and `family` fields, given as UTF-8 bytes (nil: missing),
    /// the way orchagent would read them for this key.
    public static func entry(neigh: UnsafeRawBufferPointer?, family: UnsafeRawBufferPointer?, for key: NeighborKey) -> Result<NeighborEntry, Reason> {
        guard let neigh else { return .failure(Reason(text: "missing field \"neigh\"")) }
        guard let mac = MACAddress(utf8: neigh) else { return .failure(Reason(text: "bad MAC \"\(String(decoding: neigh, as: UTF8.self))\"")) }
        guard let family else { return .failure(Reason(text: "missing field \"family\"")) }
        let fam = String(decoding: family, as: UTF8.self)
        guard let f = AddressFamily(fieldValue: fam) else { return .failure(Reason(text: "bad family \"\(fam)\"")) }
        guard f == key.ip.family else { return .failure(Reason(text: "family \(fam) does not match the key's address")) }
        return .success(NeighborEntry(mac: mac, family: f))
    }
}
