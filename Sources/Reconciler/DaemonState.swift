import Model

/// Tunables of the core; the shell fills them from the command line.
public struct ReconcilerConfig: Hashable, Sendable {
    /// Most changes in one batch.
    public var batchSize: Int
    /// Longest a change waits for its batch to fill.
    public var batchDelayMilliseconds: Int
    /// Least time between two re-dumps after overruns.
    public var redumpCooldownMilliseconds: Int
    /// Most batches written and not yet acknowledged. Two keep Redis busy while the next batch
    /// is built; batches in flight never share a key, so they may be applied in any order.
    public var batchesInFlight: Int
    /// The wait before refused batches are written again, by the count of refusals in a row.
    public var writeRetry: Backoff
    /// A cold or crash start writes the SETs its first dump calls for while that dump goes on, once
    /// the store is read (docs/state-machine.md, "Writes overlapping the first dump"). Off: every
    /// write waits for the complete dump, as the tests' baseline for the overlap.
    public var writesOverlapDump: Bool
    /// Anti-entropy: time between two verifying reads of APPL_DB in steady state; 0 turns them off.
    public var verifyIntervalMilliseconds: Int
    /// Anti-entropy: the shell reports APPL_DB keyspace notifications (`storeKeysTouched`), so the
    /// core remembers the keys it had acknowledged lately (orchagent's consuming them is no drift).
    public var watchesStoreKeys: Bool

    public init(
        batchSize: Int = 1000,
        batchDelayMilliseconds: Int = 10,
        redumpCooldownMilliseconds: Int = 1000,
        batchesInFlight: Int = 2,
        writeRetry: Backoff = Backoff(),
        writesOverlapDump: Bool = true,
        verifyIntervalMilliseconds: Int = 0,
        watchesStoreKeys: Bool = false
    ) {
        self.batchSize = max(1, batchSize)
        self.batchDelayMilliseconds = max(0, batchDelayMilliseconds)
        self.redumpCooldownMilliseconds = max(0, redumpCooldownMilliseconds)
        self.batchesInFlight = max(1, batchesInFlight)
        self.writeRetry = writeRetry
        self.writesOverlapDump = writesOverlapDump
        self.verifyIntervalMilliseconds = max(0, verifyIntervalMilliseconds)
        self.watchesStoreKeys = watchesStoreKeys
    }
}

/// Where the daemon is in its life. Cold and warm start walk the same path; a cold start
/// passes straight through the two warm-only waits. APPL_DB is read alongside (`storeReady`).
public enum Phase: String, Hashable, Sendable, CaseIterable {
    /// The journal was replayed; waiting for `.started`.
    case starting
    /// Warm only: waiting for `NEIGH_RESTORE_TABLE|Flags restored`.
    case awaitingRestoreFlag
    /// The first kernel dump is in progress. A cold start with the store read writes the SETs the
    /// dump calls for meanwhile; a warm start writes nothing.
    case dumping
    /// Warm only: the dump is complete, the reconcile timer runs; nothing is written.
    case awaitingReconcileTimer
    /// Kernel changes flow to the store.
    case steady
    /// Shutdown requested; finishing the batches in flight.
    case stopping
    case stopped
}

/// Counters for status and metrics.
public struct Counters: Hashable, Sendable {
    public var kernelMessages = 0
    public var ignoredMessages = 0
    public var overruns = 0
    public var dumps = 0
    public var dumpsInterrupted = 0
    public var dumpsFailed = 0
    public var dumpsRaced = 0
    public var batchesWritten = 0
    public var batchesAcknowledged = 0
    public var batchesFailed = 0
    public var batchesRefused = 0
    public var setsAcknowledged = 0
    public var delsAcknowledged = 0
    public var storeReloads = 0
    /// Anti-entropy: verifying reads compared, keys found drifted, and keys the store agrees on again.
    public var verifications = 0
    public var driftFound = DriftCounts()
    public var driftRepaired = DriftCounts()
    /// Verifying reads that failed (dropped; the next interval reads again).
    public var verifyFailures = 0
    /// Anti-entropy: verifying reads asked for by keyspace notifications.
    public var keyspaceVerifications = 0
}

/// The whole state of the daemon: a plain value. Only `step` changes it.
public struct DaemonState: Sendable {
    public let config: ReconcilerConfig
    public internal(set) var phase: Phase = .starting
    public internal(set) var warmStart = false
    public internal(set) var reconcileTimerSeconds = 5
    public internal(set) var policy = Policy()
    /// Every neighbor the kernel holds (also those the policy filters out), by key.
    public internal(set) var kernel: [NeighborKey: KernelNeighbor] = [:]
    /// What APPL_DB holds: read back, then kept current by acknowledged batches.
    public internal(set) var actual: StoreSnapshot
    /// Batches written and not yet acknowledged, oldest first (Redis answers in order).
    public internal(set) var inFlight: [Batch] = []
    public internal(set) var counters = Counters()
    /// The last batch id handed out; ids stay unique across restarts through the journal.
    public internal(set) var lastBatchID: UInt64
    /// Batches refused in a row (reset by an acknowledgement): sets the backoff, and says that
    /// Redis is refusing writes.
    public internal(set) var refusalStreak = 0
    public var writesRefused: Bool { refusalStreak > 0 }
    /// Dual-ToR: the `NEIGH_FAILED_TABLE` rows (spec §12). Not journaled: a start adopts the rows
    /// its first read of APPL_DB finds.
    public internal(set) var failedTable = FailedTable()

    var dirty = DirtyQueue()
    /// The keys of the batches in flight: a key waits for its batch before it joins another.
    var inFlightKeys: Set<NeighborKey> = []
    var inFlightMalformedKeys: Set<String> = []
    /// Malformed store keys still to be deleted.
    var malformedToDelete: [String] = []
    /// While a dump runs: the table it is building. Live notifications update it in order too.
    var dumpView: [NeighborKey: KernelNeighbor]?
    /// The master device (a VRF) of each kernel neighbor whose interface has one, and the same for
    /// the dump being built: a SET that a resync writes removes the EVPN host route first, as a
    /// live one does. Empty on a switch whose interfaces have no master.
    var kernelMasters: [NeighborKey: InterfaceName] = [:]
    var dumpMasters: [NeighborKey: InterfaceName] = [:]
    var overrunDuringDump = false
    /// Keys given a SET while the first dump ran (`dumping`, cold): each gets at most one, whatever
    /// more the dump says of it; the dump's end decides the rest.
    var writtenDuringDump: Set<NeighborKey> = []
    /// A dump completed since the desired view was last journaled: it is, once nothing is queued
    /// or in flight, when `.desiredRecord` finds no progress or has waited its most, or at exit.
    var desiredRecordDue = false
    var desiredRecordTimerArmed = false
    /// `.desiredRecord` firings that found batches acknowledged since the one before, and the
    /// count of acknowledgements then.
    var desiredRecordWaits = 0
    var desiredRecordAcknowledged = 0
    /// A dump's desired view waits for the store to catch up a second at a time while batches are
    /// acknowledged, at most ten.
    static let desiredRecordWaitMilliseconds = 1000
    static let desiredRecordMaxWaits = 9
    var redumpWanted = false
    var cooldownArmed = false
    /// Batches in flight that Redis refused, to be written again when `.writeRetry` fires.
    var awaitingRetry: Set<UInt64> = []
    var retryTimerArmed = false
    var flushTimerArmed = false
    /// The flush delay has passed: write what is dirty even if it does not fill a batch.
    var flushDue = false
    var storeReady = false
    /// Anti-entropy (Drift.swift): the verifying read outstanding, the keys written since it was asked
    /// for (its view of them may be older or newer than `actual`), and the drifted keys still to repair.
    var lastVerifyID: UInt64 = 0
    var verifyOutstanding: UInt64?
    var verifyTimerArmed = false
    var writtenSinceVerify: Set<NeighborKey> = []
    var writtenMalformedSinceVerify: Set<String> = []
    var driftToRepair: [NeighborKey: DriftKind] = [:]
    var malformedDriftToRepair: Set<String> = []
    /// The keys (as text) the last verifying read found drifted, with how many reads in a row did.
    var driftStreaks: [String: Int] = [:]
    /// Keys to SET at their next flush even if the store holds their desired entry: orchagent
    /// removed the neighbor when an alias of the key was deleted (`rewriteDeletedAliases`).
    var rewriteKeys: Set<NeighborKey> = []
    /// Keyspace detection (KeyspaceDrift.swift): the hashes of the keys (and malformed raw keys)
    /// acknowledged lately and not yet seen consumed, with how many pops each still excuses, this
    /// generation and the one before: ~9 bytes a key after a cold start's 100,000, not a second copy
    /// of the keys; a collision only excuses a touch, which the periodic read then covers. A foreign
    /// touch marks a read pending; it is asked once no read runs and the hold-off after the last passed.
    var acknowledged: [Int: UInt8] = [:]
    var acknowledgedBefore: [Int: UInt8] = [:]
    var forgetTimerArmed = false
    var keyspaceReadPending = false
    var keyspaceHoldOffArmed = false
    /// Warm start: the reconcile timer fired before APPL_DB was read; reconcile once it is.
    var reconcileDue = false
    /// Warm restart: `state=reconciled` is written once the queue passes this position.
    var reconciledMark: Int?

    /// Replays a journal image. A cold start replays `JournalImage.empty`.
    public init(config: ReconcilerConfig = ReconcilerConfig(), replaying image: JournalImage = .empty) {
        self.config = config
        actual = image.actual
        lastBatchID = max(image.lastBatchID, image.inFlight.map(\.id).max() ?? 0)
    }

    /// What APPL_DB should hold for a key: its kernel neighbor after the decision procedure and
    /// the policy. Derived on demand, never stored: the kernel view and the policy are the truth,
    /// and a second table of 100,000 entries would cost as much memory as the first.
    public func desiredEntry(for key: NeighborKey) -> NeighborEntry? {
        kernel[key].flatMap { Reconciler.desiredEntry(for: key, $0, policy: policy) }
    }

    /// The whole desired view as a list in plan order, built when asked (the journal's record of
    /// a dump, once the store caught up with it). Sorted: the kernel view's own order changes
    /// from process to process.
    public var desiredEntries: [DesiredEntry] {
        var d: [DesiredEntry] = []
        d.reserveCapacity(kernel.count)
        for (k, n) in kernel {
            if let e = Reconciler.desiredEntry(for: k, n, policy: policy) { d.append(DesiredEntry(k, e)) }
        }
        sortInPlanOrder(&d, key: { $0.key })
        return d
    }

    /// How many entries the desired view holds (for metrics): kept up to date as the kernel view
    /// changes, so reading it costs nothing (an idle daemon writes metrics every few seconds).
    public internal(set) var desiredCount = 0

    mutating func recountDesired() {
        desiredCount = kernel.reduce(0) {
            $0 + (Reconciler.desiredEntry(for: $1.key, $1.value, policy: policy) == nil ? 0 : 1)
        }
    }

    /// The store view compared with the desired one, key by key.
    func plan() -> Plan {
        diff(over: kernel, entry: { k, n in Reconciler.desiredEntry(for: k, n, policy: policy) }, actual: actual)
    }

    /// A batch in flight is still to be answered (not merely waiting to be written again).
    var repliesAwaited: Bool { inFlight.contains { !awaitingRetry.contains($0.id) } }

    /// Changes waiting to be written (an upper bound: some may turn out to be no-ops).
    public var pendingCount: Int { dirty.count + malformedToDelete.count }
}
