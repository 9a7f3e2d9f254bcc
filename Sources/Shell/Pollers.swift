import Model
import StoreObserver

/// CONFIG_DB and STATE_DB over time: the start-up settings (read until they answer), the policy
/// and the logger row (re-read when notified, or on a period, and after a failure with backoff, so
/// that a change is never missed for good), the warm start's restore flag, and the warm-restart
/// state. The log settings are the shell's, not the core's: a change goes to `applyLogging`.
public final class Pollers {
    private unowned let context: ShellContext
    private let settings: any SettingsSource
    private let restoreTimeoutSeconds: Int
    private let policyPollSeconds: Int
    private var startupFailures = 0
    private var policyFailures = 0
    private var restoreDeadline: UInt64?
    /// Polling, not notifications: keyspace notifications cannot be enabled.
    private var polling = false
    /// The log settings in force: the command line's until the logger row is read.
    public private(set) var logging: LoggerSettings
    /// The logger row's fields the command line gave: they win over the row at start.
    private let loggingGiven: Set<String>
    private let applyLogging: (LoggerSettings) -> Void
    /// The logger row last read: `.none` before the first read, `.some(nil)` when not a hash.
    private var loggerRowSeen: [String: String]?? = .none

    /// `logging`: the log settings at start; `loggingGiven`: the row's fields (`LoggerRow.levelField`,
    /// `.outputField`) the command line set, which keep their value until the row changes them;
    /// `applyLogging` sets the logger's level and output when the row changes them.
    public init(
        context: ShellContext,
        settings: any SettingsSource,
        restoreTimeoutSeconds: Int,
        policyPollSeconds: Int,
        logging: LoggerSettings,
        loggingGiven: Set<String> = [],
        applyLogging: @escaping (LoggerSettings) -> Void
    ) {
        self.context = context
        self.settings = settings
        self.restoreTimeoutSeconds = restoreTimeoutSeconds
        self.policyPollSeconds = policyPollSeconds
        self.logging = logging
        self.loggingGiven = loggingGiven
        self.applyLogging = applyLogging
    }

    public var subscription: Int32? { settings.subscription }
    var reconnects: Int { settings.reconnects }

    /// Reads the start-up settings and reports `.started`; retried with backoff until they answer.
    func start() {
        let s: StartupSettings
        let loggerRow: LoggerRow.Reading
        do throws(RedisError) {
            // The logger row first: `startup` counts a warm restart, so it must be the last read.
            loggerRow = try settings.loggerRow(writingAbsent: LoggerRow.defaults)
            s = try settings.startup()
        } catch {
            context.retry(.startup, after: error, "reading start-up settings", failures: &startupFailures)
            return
        }
        if let refusal = loggerRow.writeRefused {
            context.log(
                .warning,
                "CONFIG_DB \(LoggerRow.key): writing its defaults was refused (\(refusal)); "
                    + "swssloglevel will not list neighsyncd until the row exists"
            )
        }
        followLogger(loggerRow.fields)
        if s.config.warmStart {
            context.log(.notice, "warm start: restore_count \(s.restoreCount)")
            if !s.timerValid {
                context.log(
                    .notice,
                    "getWarmStartTimer: neighsyncd_timer not configured or invalid, "
                        + "using default \(s.config.reconcileTimerSeconds) s"
                )
            }
            context.log(.notice, "getWarmStartTimer: reconcile timer \(s.config.reconcileTimerSeconds) s")
        }
        context.enqueue(.started(s.config))
        subscribe()
    }

    private func subscribe() {
        do throws(RedisError) {
            let notified = try settings.subscribe()
            if !notified && !polling {
                polling = true
                context.log(
                    .warning,
                    "CONFIG_DB keyspace notifications cannot be enabled; "
                        + "re-reading the policy every \(policyPollSeconds) s"
                )
                context.arm(.policyPoll, afterMilliseconds: policyPollSeconds * 1000)
            }
        } catch {
            retryPolicy(after: error, "subscribing to CONFIG_DB")
        }
    }

    /// Call when the subscription's socket is readable.
    public func subscriptionReadable() {
        do throws(RedisError) {
            let change = try settings.configNotified()
            if change.contains(.policy) {
                reread()
            } else if change.contains(.logger) {
                rereadLogger()
            }
        } catch {
            context.log(.error, "CONFIG_DB subscription: \(error); subscribing again")
            reread()
        }
    }

    /// Reads the policy and the logger row, restoring the subscription first if it was lost.
    func reread() {
        context.deadlines.cancel(.policyRetry)
        do throws(RedisError) {
            let wasSubscribed = settings.subscription != nil
            _ = try settings.subscribe()
            if !wasSubscribed { context.log(.notice, "CONFIG_DB subscription restored") }
            context.enqueue(.policyChanged(try settings.policy()))
            followLogger(try settings.loggerRow(writingAbsent: [:]).fields)
            policyFailures = 0
        } catch {
            retryPolicy(after: error, "reading CONFIG_DB policy")
        }
    }

    /// Only the logger row changed: the policy is not read again, the core hears nothing.
    private func rereadLogger() {
        do throws(RedisError) {
            followLogger(try settings.loggerRow(writingAbsent: [:]).fields)
        } catch {
            retryPolicy(after: error, "reading CONFIG_DB \(LoggerRow.key)")
        }
    }

    /// Takes the log settings from the logger row. Like swss-common, only a new value acts: at the
    /// first read every field the command line did not give, later each field whose value changed,
    /// so a row polled again unchanged logs nothing and `swssloglevel -l DEBUG` leaves the output be.
    private func followLogger(_ row: [String: String]?) {
        let previous = loggerRowSeen
        if let seen = previous, seen == row { return }
        loggerRowSeen = .some(row)
        guard let row else {
            context.log(.error, "CONFIG_DB \(LoggerRow.key) is not a hash; the log settings stay as they are")
            return
        }
        let acting =
            switch previous {
            case .none: row.filter { !loggingGiven.contains($0.key) }
            case .some(let seen?): row.filter { seen[$0.key] != $0.value }
            case .some(nil): row
            }
        let (next, problems) = LoggerRow.settings(acting, fallback: logging)
        for p in problems { context.log(.error, "CONFIG_DB \(p)") }
        guard next != logging else { return }
        // Applied first, so the line saying so goes to the new output.
        logging = next
        applyLogging(next)
        context.log(
            .notice,
            "log level \(next.level.name), output \(next.output.rawValue) (CONFIG_DB \(LoggerRow.key))"
        )
    }

    func pollPolicy() {
        context.arm(.policyPoll, afterMilliseconds: policyPollSeconds * 1000)
        reread()
    }

    private func retryPolicy(after error: RedisError, _ what: String) {
        context.retry(.policyRetry, after: error, what, failures: &policyFailures)
    }

    // MARK: warm restart

    func waitForRestoreFlag() {
        restoreDeadline = context.now + UInt64(restoreTimeoutSeconds) * 1_000_000_000
        context.arm(.restoreCheck, afterMilliseconds: 0)
    }

    func checkRestoreFlag() {
        do throws(RedisError) {
            if try settings.restoreFlagSet() {
                restoreDeadline = nil
                context.enqueue(.restoreFlagSet)
                return
            }
        } catch {
            context.log(.error, "reading NEIGH_RESTORE_TABLE|Flags: \(error)")
        }
        if let d = restoreDeadline, context.now >= d {
            restoreDeadline = nil
            context.enqueue(.restoreWaitTimedOut)
        } else {
            context.arm(.restoreCheck, afterMilliseconds: 1000)
        }
    }

    func setWarmRestartState(_ s: WarmRestartState) {
        do throws(RedisError) {
            try settings.setWarmRestartState(s)
        } catch {
            context.log(.error, "writing warm-restart state \(s.rawValue): \(error)")
        }
    }
}
