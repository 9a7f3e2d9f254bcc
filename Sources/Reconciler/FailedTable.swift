import Model

/// What one kernel message asks of `NEIGH_FAILED_TABLE` (spec §12), before it is known whether the
/// row exists.
public enum FailedNeighborRule: Hashable, Sendable {
    /// RTM_NEWNEIGH with state exactly FAILED: write the row (every time: each write is one more
    /// request to nbrmgrd, as upstream sends one per message).
    case set
    /// RTM_DELNEIGH (any state), or RTM_NEWNEIGH in a valid state: remove the row if it exists.
    case removeIfPresent
}

/// Spec §12, as upstream places it in `onMsg`: dual-ToR and IPv6 only, after the link-local and
/// ff02 filters (rules 6 and 7) and the key, before the EVPN PROBE and NOARP filters (rules 8 and
/// 9), whatever the NEIGH_TABLE decision. nil: the message leaves the table alone (INCOMPLETE,
/// NONE, GET, IPv4, not dual-ToR, filtered).
public func failedNeighborRule(_ m: NeighborMessage, policy: Policy) -> FailedNeighborRule? {
    guard policy.dualToR, m.family == KernelFamily.inet6, let ip = m.destination, ip.family == .ipv6 else {
        return nil
    }
    let isDelete = m.type == .deleteNeighbor
    if ip.isIPv6LinkLocal && !isDelete && !policy.isLinkLocalEnabled(on: m.interface) { return nil }  // 6
    if ip.isIPv6MulticastLinkLocal { return nil }  // 7
    switch m.type {
    case .newNeighbor where m.state == .failed: return .set
    case .newNeighbor where m.state.isValidForFailedTable: return .removeIfPresent
    case .deleteNeighbor: return .removeIfPresent
    default: return nil
    }
}

/// The core's side of `NEIGH_FAILED_TABLE`: a side channel written per message, not a view diffed
/// like NEIGH_TABLE, and no part of warm restart (not journaled, not cleared at a warm start, not
/// held back by the reconcile timer).
public struct FailedTable: Sendable {
    /// The keys whose row exists or is pending a SET: written by this process and not removed
    /// since, or found by the first read of APPL_DB.
    ///
    /// Why not upstream's check: upstream reads the consumed hash `NEIGH_FAILED_TABLE:<key>` before
    /// each removal (a Redis round trip per valid message) so that only rows that exist are
    /// deleted; without it every REACHABLE/STALE/DELAY/PROBE notification of every IPv6 neighbor
    /// would write a DEL. This set answers the same question from what was written and read. It
    /// differs only for a row nbrmgrd has not popped yet: upstream sends no DEL, so nbrmgrd later
    /// pops the SET, finds the neighbor no longer FAILED and skips it, and the row stays until the
    /// next valid message of that neighbor; here the DEL goes out, the consumer pops a DEL
    /// instead (nbrmgrd ignores DELs of this table) and no row is left behind. Every DEL upstream
    /// sends, this sends too (the first read covers rows left by an earlier instance).
    public private(set) var rows: Set<NeighborKey> = []
    /// What happened while APPL_DB could not be written (before the first read, or after the
    /// connection was lost), in order; carried out once it is read. Bounded by the number of keys:
    /// a key's later rule replaces its earlier one (the row ends the same; nbrmgrd gets one request
    /// where it would have had several), and a later sweep merges with an earlier one (below).
    private var deferred: [Deferred?] = []
    private var deferredAt: [NeighborKey: Int] = [:]
    private var sweepAt: Int?
    /// A read of APPL_DB has read the table (and its rows were adopted).
    private var adopted = false

    enum Deferred {
        case message(NeighborKey, FailedNeighborRule)
        /// A complete dump ended holding these neighbors.
        case sweep(keeping: Set<NeighborKey>)
    }

    public init() {}

    /// One kernel message's effect: operations to write now (when the store is ready), else
    /// kept for the next read. `redump`: the message is an entry of a dump taken again while
    /// running (after an overrun, a link renamed), not a notification: a FAILED neighbor whose row
    /// is already written asks nothing more. Upstream dumps only at start, so it asks nbrmgrd once
    /// per FAILED notification; a re-dump answering again for every FAILED neighbor would have
    /// nbrmgrd probe them all at once, in the burst that caused the overrun.
    mutating func observe(
        _ m: NeighborMessage,
        key: NeighborKey,
        policy: Policy,
        storeReady: Bool,
        redump: Bool
    ) -> [FailedNeighborChange] {
        guard let rule = failedNeighborRule(m, policy: policy) else { return [] }
        if redump && rule == .set && rows.contains(key) { return [] }
        guard storeReady else {
            postpone(.message(key, rule))
            return []
        }
        return apply(rule, to: key).map { [$0] } ?? []
    }

    /// APPL_DB was read: `present` are the rows it holds (consumed, or pending a SET), nil if the
    /// table was not read (not a dual-ToR then: its SCAN costs ~50 ms with 100,000 neighbors). The
    /// first read of the table adopts them (rows of an earlier instance, or of a run before a
    /// crash, are removed by the same rules as this process's own); a later one (after a lost
    /// connection or a Redis restart) repairs the difference, since a write may have been lost.
    /// Then the rules met meanwhile are carried out, in order.
    mutating func storeLoaded(present: Set<NeighborKey>?) -> [FailedNeighborChange] {
        var out: [FailedNeighborChange] = []
        if let present, !adopted {
            adopted = true
            rows.formUnion(present)
        } else if let present {
            out += present.subtracting(rows).sorted().map { .del($0) }
            out += rows.subtracting(present).sorted().map { .set($0) }
        }
        let pending = deferred
        (deferred, deferredAt, sweepAt) = ([], [:], nil)
        for d in pending {
            switch d {
            case .message(let key, let rule)?: if let c = apply(rule, to: key) { out.append(c) }
            case .sweep(let kernel)?: out += sweep(keeping: kernel)
            case nil: continue
            }
        }
        return out
    }

    /// A complete dump ended: the rows of neighbors it did not hold are removed, as the DELNEIGH
    /// this process did not read (lost in an overrun, or sent while no instance was running) would
    /// have removed them. Upstream never re-dumps and would keep such a row for good; nbrmgrd
    /// ignores the DEL of a row that is not there. Before APPL_DB is read (only a dual-ToR pays
    /// for it) the dump's keys wait for the read, in turn with the messages.
    mutating func dumpCompleted(
        kernel: [NeighborKey: KernelNeighbor],
        policy: Policy,
        storeReady: Bool
    ) -> [FailedNeighborChange] {
        guard policy.dualToR else { return [] }
        guard storeReady else {
            postpone(.sweep(keeping: Set(kernel.keys)))
            return []
        }
        let gone = rows.filter { kernel[$0] == nil }.sorted()
        rows.subtract(gone)
        return gone.map { FailedNeighborChange.del($0) }
    }

    private mutating func sweep(keeping kept: Set<NeighborKey>) -> [FailedNeighborChange] {
        let gone = rows.subtracting(kept).sorted()
        rows.subtract(gone)
        return gone.map { FailedNeighborChange.del($0) }
    }

    private mutating func apply(_ rule: FailedNeighborRule, to key: NeighborKey) -> FailedNeighborChange? {
        let change: FailedNeighborChange
        switch rule {
        case .set:
            rows.insert(key)
            change = .set(key)
        case .removeIfPresent:
            guard rows.remove(key) != nil else { return nil }
            change = .del(key)
        }
        return change
    }

    private mutating func postpone(_ d: Deferred) {
        switch d {
        case .message(let key, _):
            if let i = deferredAt[key] { deferred[i] = nil }
            deferredAt[key] = deferred.count
        case .sweep(let later):
            guard let i = sweepAt, case .sweep(let earlier)? = deferred[i] else {
                sweepAt = deferred.count
                break
            }
            // Two sweeps with messages between, as one at the later place: a row survives both if
            // both dumps held it, or if a message after the first set it and the later dump holds it.
            var kept = earlier.filter { later.contains($0) }
            for (key, at) in deferredAt where at > i && later.contains(key) { kept.insert(key) }
            deferred[i] = nil
            sweepAt = deferred.count
            deferred.append(.sweep(keeping: kept))
            return
        }
        deferred.append(d)
        if deferred.count > 2 * (deferredAt.count + 1) + 64 {
            let live = deferred.compactMap { $0 }
            (deferred, deferredAt, sweepAt) = ([], [:], nil)
            for d in live { postpone(d) }
        }
    }

    /// How many operations and sweeps wait for APPL_DB to be read (at most one per key, plus one).
    public var waiting: Int { deferredAt.count + (sweepAt == nil ? 0 : 1) }
}
