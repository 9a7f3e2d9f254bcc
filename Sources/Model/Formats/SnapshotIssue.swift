/// A problem found in an input file or store: which source, which item, and why. The text
/// quotes outside data, so `description` escapes its control characters.
public struct SnapshotIssue: Hashable, Sendable, CustomStringConvertible {
    public var source: String
    public var item: String
    public var reason: String

    public init(source: String, item: String, reason: String) {
        self.source = source
        self.item = item
        self.reason = reason
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
