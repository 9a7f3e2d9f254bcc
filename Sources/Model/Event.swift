/// Settings read once at start (STATE_DB / CONFIG_DB, spec §3 and §5).
public struct StartupConfig: Hashable, Sendable {
    /// Warm restart enabled (`WARM_RESTART_ENABLE_TABLE|system` or `|swss`).
    public var warmStart: Bool
    /// `WARM_RESTART|swss neighsyncd_timer`, already validated to 1…9999 (default 5).
    public var reconcileTimerSeconds: Int
    public var policy: Policy

    public init(warmStart: Bool, reconcileTimerSeconds: Int = 5, policy: Policy = Policy()) {
        self.warmStart = warmStart
        self.reconcileTimerSeconds = reconcileTimerSeconds
        self.policy = policy
    }
}

/// The timers the core asks the shell to run.
public enum TimerID: Hashable, Sendable, CaseIterable {
    /// Bounded delay before a partial batch is written.
    case flush
    /// Warm restart: the reconcile timer (`neighsyncd_timer`).
    case reconcile
    /// Rate limit between two re-dumps after overruns.
    case redumpCooldown
    /// Backoff before the batches Redis refused are written again (the shell adds jitter).
    case writeRetry
    /// The latest a complete dump's desired view waits for the store to catch up before it is
    /// journaled anyway.
    case desiredRecord
    /// Anti-entropy: the next verifying read of APPL_DB (`ReconcilerConfig.verifyIntervalMilliseconds`).
    case verify
    /// Anti-entropy: the keys acknowledged lately are forgotten, a generation at a time.
    case forgetAcknowledged
    /// Anti-entropy: the pause after a verifying read before a keyspace touch asks another.
    case keyspaceHoldOff
}

/// Everything that can happen to the daemon, as data. `step` consumes these one at a time.
public enum Event: Hashable, Sendable {
    /// The process started; the journal was already replayed into the state.
    case started(StartupConfig)
    /// APPL_DB was read (at start, or after a reconnect): `NEIGH_TABLE`, and the keys of the
    /// `NEIGH_FAILED_TABLE` rows that exist or are pending a SET (spec §12); nil when that table
    /// was not read (not a dual-ToR when the read began).
    case storeLoaded(StoreSnapshot, failedNeighbors: Set<NeighborKey>? = nil)
    /// The idle APPL_DB connection closed (Redis restarted, CLIENT KILL): its content is unknown;
    /// the shell reconnects with backoff.
    case storeUnavailable
    /// The verifying read `id` asked for (`Effect.verifyStore`) finished: `NEIGH_TABLE` as orchagent
    /// will see it, consumed entries plus pending operations, compared with what was acknowledged.
    case storeVerified(id: UInt64, StoreSnapshot)
    /// The verifying read `id` could not be made; the next interval asks again.
    case storeVerifyFailed(id: UInt64, reason: String)
    /// APPL_DB keyspace notifications named these `NEIGH_TABLE:<key>` keys (the part after the
    /// prefix) since the last report; `overflow`: the subscription was lost and restored, so any
    /// key may have changed. The core verifies the store unless its own writes explain them.
    case storeKeysTouched(Set<String>, overflow: Bool)
    /// Warm restart: `NEIGH_RESTORE_TABLE|Flags restored` is `true`.
    case restoreFlagSet
    /// Warm restart: the restore flag did not appear within the wait (180 s).
    case restoreWaitTimedOut
    /// One RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH, from a dump or a notification.
    case kernelMessage(NeighborMessage)
    /// NLMSG_DONE of a neighbor dump; `interrupted` when NLM_F_DUMP_INTR was seen.
    case kernelDumpDone(interrupted: Bool)
    /// The netlink socket reported ENOBUFS: notifications were lost.
    case kernelOverrun
    /// The running dump ended without NLMSG_DONE: the kernel refused its request (an NLMSG_ERROR,
    /// e.g. ENOBUFS while the receive queue is full, or EBUSY) or it could not be sent.
    case kernelDumpFailed(reason: String)
    /// The running dump read a neighbor after a notification of it, so its entry may be the older
    /// state: its view is taken, and a second dump follows under the re-dump cooldown.
    case kernelDumpRaced
    /// Interfaces were renamed or removed: neighbor keys may have changed.
    case linksChanged
    /// CONFIG_DB changed link-local, dual-ToR or EVPN settings.
    case policyChanged(Policy)
    case timerFired(TimerID)
    /// Every reply of a written batch was read and checked.
    case batchAcknowledged(id: UInt64)
    /// A batch could not be confirmed: the connection was lost (or its replies made no sense).
    case batchFailed(id: UInt64, reason: String)
    /// Redis answered a batch with an error reply (OOM, WRONGTYPE, READONLY): it refused the
    /// writes, the connection is fine. Some of the batch may have been applied.
    case batchRefused(id: UInt64, reason: String)
    /// SIGTERM / SIGINT.
    case shutdownRequested
}

/// Warm-restart progress written to STATE_DB `WARM_RESTART_TABLE|neighsyncd state`.
public enum WarmRestartState: String, Hashable, Sendable {
    case initialized, restored, reconciled
}

/// Log severities, mapped by the shell onto its logger (NOTICE is SONiC's default level).
public enum LogLevel: Int, Hashable, Sendable, Comparable {
    case debug, info, notice, warning, error
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// One entry of a desired view.
public struct DesiredEntry: Hashable, Sendable {
    public var key: NeighborKey
    public var entry: NeighborEntry

    public init(_ key: NeighborKey, _ entry: NeighborEntry) {
        self.key = key
        self.entry = entry
    }
}

/// What the journal must record.
public enum JournalRecord: Hashable, Sendable {
    /// A batch is about to be written (in flight until acknowledged).
    case batchWritten(Batch)
    /// The batch was acknowledged: apply it to the journaled store view.
    case batchApplied(Batch)
    /// The store view was replaced by a fresh read of APPL_DB.
    case storeReloaded(StoreSnapshot)
    /// A complete kernel dump produced this desired view (a list: building it costs no hashing).
    case desiredReplaced([DesiredEntry])
}

/// Everything the daemon does to the outside world, as data the shell carries out.
public enum Effect: Hashable, Sendable {
    case setWarmRestartState(WarmRestartState)
    /// Read APPL_DB (retry with backoff until it succeeds) and report `.storeLoaded`; meanwhile
    /// other events keep coming. `clearingPending` (warm start): first the ProducerStateTable
    /// `clear()` of the previous instance's pending operations, so the read sees none of them.
    case loadStore(clearingPending: Bool)
    /// Anti-entropy: read `NEIGH_TABLE` as `.loadStore` does, on a connection of its own, and report
    /// `.storeVerified(id:)`. Nothing is retried: a read that fails is dropped, the next one follows.
    case verifyStore(id: UInt64)
    /// Poll the restore flag once a second; report `.restoreFlagSet` or `.restoreWaitTimedOut`.
    case waitForRestoreFlag
    /// Subscribe (if not yet) and dump the kernel's neighbors.
    case requestKernelDump
    case write(Batch)
    /// EVPN: `ROUTE_TABLE` del `<vrf>:<ip>` before the neighbor is set.
    case removeHostRoute(vrf: InterfaceName, ip: IPAddress)
    /// Dual-ToR: `NEIGH_FAILED_TABLE` operations, in order, written at once and before any write
    /// emitted after this effect (spec §12: before the NEIGH_TABLE op of the same event). Not
    /// journaled, not part of warm restart.
    case writeFailedNeighbors([FailedNeighborChange])
    case journal(JournalRecord)
    /// Fire `.timerFired(id)` after the delay (re-arming replaces the deadline).
    case armTimer(TimerID, milliseconds: Int)
    case log(LogLevel, String)
    case exit(code: Int32)
}
