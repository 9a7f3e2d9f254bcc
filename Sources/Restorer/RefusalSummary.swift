import Glibc
import Model

/// The kernel's refusals of one pass, by interface and errno: one log line each with a count and
/// the first few keys (in key order), not one line per neighbor (a gone interface refuses all of its thousands).
public struct RefusalSummary: Sendable {
    public struct Group: Hashable, Comparable, Sendable {
        public var interface: InterfaceName
        public var errno: Int32
        public static func < (a: Group, b: Group) -> Bool { (a.interface, a.errno) < (b.interface, b.errno) }
    }

    /// How many keys each line names.
    public static let shownKeys = 3
    public private(set) var counts: [Group: Int] = [:]
    private var firstKeys: [Group: [NeighborKey]] = [:]

    public init() {}

    public var total: Int { counts.values.reduce(0, +) }

    public mutating func add(_ key: NeighborKey, errno code: Int32) {
        let group = Group(interface: key.interface, errno: code)
        counts[group, default: 0] += 1
        // The smallest keys, whatever order they come in, so the line is the same from run to run.
        var shown = firstKeys[group, default: []]
        shown.append(key)
        shown.sort()
        firstKeys[group] = Array(shown.prefix(Self.shownKeys))
    }

    /// One line per group, in interface then errno order.
    public var lines: [String] {
        counts.keys.sorted().map { group in
            let count = counts[group] ?? 0
            let keys = (firstKeys[group] ?? []).map(\.description).joined(separator: ", ")
            let more = count > Self.shownKeys ? ", …" : ""
            let why = String(cString: strerror(group.errno))
            return
                "kernel refused \(count) neighbors on \(group.interface): \(why) (errno \(group.errno)): \(keys)\(more)"
        }
    }
}
