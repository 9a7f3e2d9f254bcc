/// The Redis names of a SONiC ProducerStateTable (spec §4), e.g. `NEIGH_TABLE` on APPL_DB, and
/// the fields a SET writes, in order.
public struct ProducerStateTableNames: Hashable, Sendable {
    public var table: String
    public var databaseID: Int
    /// The field names of a SET, in the order they are written; a SET carries one value for each.
    public var fields: [String]

    public init(table: String, databaseID: Int, fields: [String] = []) {
        self.table = table
        self.databaseID = databaseID
        self.fields = fields
    }

    public static let neighTable = ProducerStateTableNames(
        table: "NEIGH_TABLE",
        databaseID: 0,
        fields: ["neigh", "family"]
    )

    /// Dual-ToR (spec §12): rows `<ifname>:<ip>` with the single field `NULL` = `NULL`.
    public static let neighFailedTable = ProducerStateTableNames(
        table: "NEIGH_FAILED_TABLE",
        databaseID: 0,
        fields: [FailedNeighborChange.field]
    )

    /// The same table on another database id (the channel's `@<id>` suffix follows it).
    public func on(database id: Int) -> ProducerStateTableNames {
        ProducerStateTableNames(table: table, databaseID: id, fields: fields)
    }

    public var keySet: String { "\(table)_KEY_SET" }
    public var delSet: String { "\(table)_DEL_SET" }
    /// `NEIGH_TABLE:` — consumed entries, written only by the consumer.
    public var tablePrefix: String { "\(table):" }
    /// `_NEIGH_TABLE:` — staging hashes.
    public var stagingPrefix: String { "_\(table):" }
    public var channel: String { "\(table)_CHANNEL@\(databaseID)" }
    /// The payload of each notification.
    public static let notification = "G"

    public func stagingKey(_ key: String) -> String { stagingPrefix + key }
    public func tableKey(_ key: String) -> String { tablePrefix + key }
}

/// A Lua script that carries out ProducerStateTable operations with the effects a consumer
/// expects (spec §4), written here from that description, and its arguments: upstream's way,
/// one PUBLISH per key newly added. The daemon writes transactions instead
/// (`StoreObserver.ProducerStateTransaction`); `reconcile --format redis` prints this script as
/// EVAL, one change per line, so that each line stands alone, and the benchmark runs it as
/// upstream's pattern. Text only, no I/O.
public enum ProducerStateTableScript {
    /// ARGV: `header`, then per change `operation`. Returns how many notifications it published.
    /// The script is atomic, so the order of its commands inside one call is invisible to the
    /// consumer; adding all keys with one SADD gives the count of keys newly added, and exactly
    /// that many notifications are published — what one SADD and PUBLISH per key would give.
    /// The header names the table's fields (`ARGV[6]` of them from `ARGV[7]` on), so one script
    /// writes every table: a SET's values follow its key in that order. Two fields (NEIGH_TABLE,
    /// the hot path) take a branch that builds no Lua table per key.
    public static let text = """
        local keys, dels, staged = {}, {}, {}
        local n = tonumber(ARGV[6])
        local f1, f2 = ARGV[7], ARGV[8]
        local i = 7 + n
        while i <= #ARGV do
          local key = ARGV[i + 1]
          keys[#keys + 1] = key
          if ARGV[i] == 'S' then
            if n == 2 then
              redis.call('HSET', ARGV[4] .. key, f1, ARGV[i + 2], f2, ARGV[i + 3])
            else
              local fv = {}
              for f = 1, n do
                fv[2 * f - 1] = ARGV[6 + f]
                fv[2 * f] = ARGV[i + 1 + f]
              end
              redis.call('HSET', ARGV[4] .. key, unpack(fv))
            end
            i = i + 2 + n
          else
            dels[#dels + 1] = key
            staged[#staged + 1] = ARGV[4] .. key
            i = i + 2
          end
        end
        if #keys == 0 then return 0 end
        local added = redis.call('SADD', ARGV[2], unpack(keys))
        if #dels > 0 then
          redis.call('SADD', ARGV[3], unpack(dels))
          redis.call('DEL', unpack(staged))
        end
        for _ = 1, added do redis.call('PUBLISH', ARGV[1], ARGV[5]) end
        return added
        """

    /// The ARGV every call starts with: channel, key set, delete set, staging prefix, payload, the
    /// number of fields of a SET, then their names.
    public static func header(_ names: ProducerStateTableNames) -> [String] {
        [names.channel, names.keySet, names.delSet, names.stagingPrefix, ProducerStateTableNames.notification]
            + [String(names.fields.count)] + names.fields
    }

    /// One change's ARGV after the header: `S key mac family` or `D key`.
    public static func operation(_ change: Change) -> [String] {
        switch change {
        case .set(let k, let e): return ["S", k.description, e.mac.description, e.family.description]
        case .del, .delMalformed: return deletion(change.keyText)
        }
    }

    /// The ARGV deleting a key given as text.
    public static func deletion(_ key: String) -> [String] { ["D", key] }

    /// The EVAL command (as arguments) carrying out `operations` in one call.
    public static func eval(_ operations: [[String]], names: ProducerStateTableNames = .neighTable) -> [String] {
        ["EVAL", text, "0"] + header(names) + operations.joined()
    }
}
