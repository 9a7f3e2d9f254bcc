/// A problem found in an input file or store: which source, which item, and why. The text
/// quotes outside data, so `description` escapes its control characters.
public struct SnapshotIssue: Hashable, Sendable, CustomStringConvertible {
    public var source: String
    public var item: String
    public var reason: String
    /// True when the plan repairs the item (a malformed stored key is deleted, a malformed stored
    /// value replaced or deleted); false when it was skipped, so the plan may be missing a change.
    public var isRepaired: Bool
    /// The item's index in its file when it has no key (an entry of a kernel table), else nil.
    public var position: Int?

    public init(source: String, item: String, reason: String, isRepaired: Bool = false, position: Int? = nil) {
        self.source = source
        self.item = item
        self.reason = reason
        self.isRepaired = isRepaired
        self.position = position
    }

    /// File order: by file, then by position (entry 2 before entry 10), then by item.
    public static func inFileOrder(_ a: SnapshotIssue, _ b: SnapshotIssue) -> Bool {
        (a.source, a.position ?? -1, a.item) < (b.source, b.position ?? -1, b.item)
    }

    public var description: String { "\(source): \(item): \(reason)".escapedForLog }
}

/// A whole input that cannot be used at all (not JSON, wrong top-level shape, unreadable).
public struct SnapshotFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    public var source: String
    public var reason: String

    public init(source: String, reason: String) {
        self.source = source
        self.reason = reason
    }

    public var description: String { "\(source): \(reason)".escapedForLog }
}
