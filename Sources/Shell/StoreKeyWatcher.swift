import Model
import StoreObserver

/// Anti-entropy's cheap detection: APPL_DB keyspace notifications of `NEIGH_TABLE:*`, on a
/// subscriber connection of its own that the runtime polls (as `PolicyWatcher`'s). The keys named
/// are gathered and reported to the core (`Event.storeKeysTouched`) `reportMilliseconds` after the
/// first, or at the end of the read that gathers `maxKeys`. A lost subscription is reported as an overflow
/// (any key may have changed meanwhile: the core reads the whole table). Notifications are Redis's
/// setting, never ours: a Redis without keyspace events for hashes and generic commands is left as
/// it is, and detection relies on the periodic read.
public final class StoreKeyWatcher {
    /// Keys in one report: a report goes at the end of the read that reaches this many.
    static let maxKeys = 10_000
    /// The longest key (after `NEIGH_TABLE:`) taken; a longer one is skipped.
    static let maxKeyBytes = 512
    static let reportMilliseconds = 1000
    /// A subscription that lasted this long ends the failures in a row: a Redis that kills the
    /// subscriber right after it subscribes gets reconnects backing off, each an overflow (a read).
    static let lastingSubscriptionMilliseconds = 30_000

    private unowned let context: ShellContext
    /// Opens a fresh APPL_DB connection.
    private let connect: () throws(RedisError) -> any RedisTransport
    private var subscriber: (any RedisTransport)?
    /// `__keyspace@<APPL_DB>__:NEIGH_TABLE:`, once connected.
    private var channelPrefix = ""
    private var touched: Set<String> = []
    private var overflow = false
    private var failures = 0
    /// When the current subscription began (the context's clock, nanoseconds).
    private var subscribedAt: UInt64 = 0
    /// Subscribed once already: a later subscription may have missed changes.
    private var subscribedBefore = false
    private var disabledLogged = false

    public init(context: ShellContext, connect: @escaping () throws(RedisError) -> any RedisTransport) {
        self.context = context
        self.connect = connect
    }

    /// The subscriber socket, for the runtime to poll.
    public var fileDescriptor: Int32? {
        guard let fd = subscriber?.fileDescriptor, fd >= 0 else { return nil }
        return fd
    }

    /// Subscribes, or learns that Redis sends no keyspace events; retried with backoff on failure.
    func start() {
        subscriber = nil
        do throws(RedisError) {
            let c = try connect()
            guard Self.keyspaceEventsEnabled(c) else {
                if !disabledLogged {
                    disabledLogged = true
                    context.log(
                        .info,
                        "APPL_DB keyspace notifications are off (notify-keyspace-events lacks K with A or g "
                            + "and h): NEIGH_TABLE drift is found by the periodic verifying read only"
                    )
                }
                return
            }
            channelPrefix = "__keyspace@\(c.database)__:NEIGH_TABLE:"
            let r = try c.command(["PSUBSCRIBE", channelPrefix + "*"])
            guard r.array?.first?.string == "psubscribe" else { throw RedisError(.reply, "PSUBSCRIBE: \(r)") }
            subscriber = c
            subscribedAt = context.now
            context.log(.info, "watching APPL_DB keyspace notifications of NEIGH_TABLE")
            // Changes while no subscription was in place are unknown: the core reads the table.
            if subscribedBefore { noteOverflow() }
            subscribedBefore = true
        } catch {
            context.retry(
                .keyWatchRetry,
                after: error,
                "subscribing to APPL_DB keyspace notifications",
                failures: &failures
            )
        }
    }

    /// `notify-keyspace-events` has keyspace events (K) for hash (h) and generic (g: DEL, RENAME,
    /// EXPIRE) commands, or all (A). Unknown (CONFIG refused) counts as on: subscribing costs nothing.
    static func keyspaceEventsEnabled(_ c: any RedisTransport) -> Bool {
        guard let reply = try? c.command(["CONFIG", "GET", "notify-keyspace-events"]), let parts = reply.array
        else { return true }
        guard parts.count == 2, let flags = parts[1].string else { return true }
        return flags.contains("K") && (flags.contains("A") || (flags.contains("g") && flags.contains("h")))
    }

    /// Call when the subscriber socket is readable.
    public func readable() {
        guard let c = subscriber else { return }
        do throws(RedisError) {
            for message in try c.readAvailable() { take(message) }
            // A flood (orchagent consuming a cold start's 100,000 keys) goes in bounded chunks, each
            // checked against what the daemon wrote. At the end of a read, not amid one: orchagent's
            // pop of a key is several notifications in a row (DEL, HSET per field), and a key split
            // over two reports looks touched twice.
            if touched.count >= Self.maxKeys { report() }
        } catch {
            subscriber = nil
            let lasted = context.now &- subscribedAt >= UInt64(Self.lastingSubscriptionMilliseconds) * 1_000_000
            if lasted { failures = 0 }
            context.retry(.keyWatchRetry, after: error, "APPL_DB keyspace subscription lost", failures: &failures)
        }
    }

    /// One message: `["pmessage", pattern, "__keyspace@N__:NEIGH_TABLE:<key>", event]`.
    private func take(_ message: RedisReply) {
        guard let parts = message.array, parts.count == 4, parts[0].string == "pmessage",
            let channel = parts[2].string, channel.hasPrefix(channelPrefix)
        else { return skip("not a NEIGH_TABLE keyspace notification: \(String(describing: message).prefix(200))") }
        let key = channel.dropFirst(channelPrefix.count)
        guard !key.isEmpty, key.utf8.count <= Self.maxKeyBytes else {
            return skip("key of \(key.utf8.count) bytes (1 to \(Self.maxKeyBytes) taken)")
        }
        context.metrics.keyspaceMessages += 1
        guard !overflow else { return }
        touched.insert(String(key))
        // One read holds at most 16 KiB of messages; this bound holds whatever hiredis buffers.
        if touched.count >= 2 * Self.maxKeys { report() } else { armReport() }
    }

    private func skip(_ why: String) {
        context.metrics.keyspaceSkipped += 1
        context.log(.debug, "APPL_DB keyspace notification skipped: \(why)")
    }

    private func noteOverflow() {
        armReport()
        touched = []
        overflow = true
    }

    private func armReport() {
        if !context.deadlines.isArmed(.keyWatchReport) {
            context.arm(.keyWatchReport, afterMilliseconds: Self.reportMilliseconds)
        }
    }

    /// The report's deadline passed: what was gathered goes to the core.
    func report() {
        guard overflow || !touched.isEmpty else { return }
        context.enqueue(.storeKeysTouched(touched, overflow: overflow))
        touched = []
        overflow = false
    }
}
