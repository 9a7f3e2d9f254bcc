import Model
import StoreObserver

/// CONFIG_DB and STATE_DB over time: the start-up settings (read until they answer), the policy
/// (re-read when notified, or on a period, and after a failure with backoff, so that a change is
/// never missed for good), the warm start's restore flag, and the warm-restart state.
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

    public init(
        context: ShellContext,
        settings: any SettingsSource,
        restoreTimeoutSeconds: Int,
        policyPollSeconds: Int
    ) {
        self.context = context
        self.settings = settings
        self.restoreTimeoutSeconds = restoreTimeoutSeconds
        self.policyPollSeconds = policyPollSeconds
    }

    public var subscription: Int32? { settings.subscription }
    var reconnects: Int { settings.reconnects }

    /// Reads the start-up settings and reports `.started`; retried with backoff until they answer.
    func start() {
        let s: StartupSettings
        do throws(RedisError) {
            s = try settings.startup()
        } catch {
            context.retry(.startup, after: error, "reading start-up settings", failures: &startupFailures)
            return
        }
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
            if try settings.policyNotified() { reread() }
        } catch {
            context.log(.error, "CONFIG_DB subscription: \(error); subscribing again")
            reread()
        }
    }

    /// Reads the policy, restoring the subscription first if it was lost.
    func reread() {
        context.deadlines.cancel(.policyRetry)
        do throws(RedisError) {
            let wasSubscribed = settings.subscription != nil
            _ = try settings.subscribe()
            if !wasSubscribed { context.log(.notice, "CONFIG_DB subscription restored") }
            context.enqueue(.policyChanged(try settings.policy()))
            policyFailures = 0
        } catch {
            retryPolicy(after: error, "reading CONFIG_DB policy")
        }
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
