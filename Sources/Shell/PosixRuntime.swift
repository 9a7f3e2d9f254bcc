import CNetlink
import Glibc
import Model

/// The production runtime: one thread, `poll(2)` over the sockets and eventfds, the system's
/// monotonic clock. Each turn feeds the queue to the core, waits for the next socket or deadline
/// (not at all while replies are awaited), lets each ready handler enqueue, runs the deadlines
/// due, and reads the oldest batch's replies.
public final class PosixRuntime {
    private let shell: Shell
    private let signalFD: Int32
    /// Reads the signals waiting; true when one asks the daemon to stop.
    private let readSignals: () -> Bool
    /// Events handled when freed memory was last returned to the system.
    private var eventsAtTrim = 0
    /// After this many events, the next idle moment returns freed memory (a dump, a store read or
    /// a burst leaves a peak behind).
    static let trimAfterEvents = 10_000
    /// Longest the loop waits for the journal before it reads replies instead.
    static let journalWaitMilliseconds: Int32 = 20

    public init(shell: Shell, signalFD: Int32, readSignals: @escaping () -> Bool) {
        self.shell = shell
        self.signalFD = signalFD
        self.readSignals = readSignals
    }

    public func run() -> Int32 {
        while shell.exitCode == nil {
            if shell.context.eventsQueued > 0 { shell.journal.loopIsBusy() }
            shell.turn()
            if shell.exitCode != nil { break }
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
            let descriptors = [
                shell.store.readDescriptor, shell.kernel.fileDescriptor, shell.pollers.subscription,
                shell.journal.fileDescriptor, shell.store.connectionDescriptor, shell.verifier?.readDescriptor,
                shell.keyWatcher?.fileDescriptor,
            ]
            for fd in descriptors.compactMap({ $0 }) {
                fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
            var timeout = shell.store.awaitingReplies || shell.context.eventsQueued > 0 ? 0 : pollTimeout()
            if timeout != 0 && !shell.store.holdingBatches { shell.journal.loopIsIdle() }
            if shell.eventsHandled - eventsAtTrim >= Self.trimAfterEvents && (timeout < 0 || timeout > 100) {
                // Idle after a burst: hand the peak's freed memory back, once the journal thread has
                // finished with its share of the burst too.
                if shell.journal.idle {
                    nsd_release_free_memory()
                    eventsAtTrim = shell.eventsHandled
                } else {
                    timeout = 100
                }
            }
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno != EINTR {
                shell.context.log(.error, "poll: \(String(cString: strerror(errno)))")
                return 1
            }
            for f in fds where f.revents != 0 { dispatch(f.fd) }
            shell.fireDueDeadlines()
            if shell.store.awaitingReplies {
                // Keep Redis's pipeline full: a batch held for its journal record (a commit takes
                // well under a millisecond) goes out before the loop waits for the older replies.
                waitForJournal()
                shell.store.collect()
            }
        }
        shell.finish()
        shell.writeMetrics?()
        return shell.exitCode ?? 0
    }

    /// While batches are held for their journal records, waits for the journal's commits (at most
    /// `journalWaitMilliseconds`), sending each batch as its record is committed.
    private func waitForJournal() {
        guard let fd = shell.journal.fileDescriptor else { return }
        let until = PosixClock.now() + UInt64(Self.journalWaitMilliseconds) * 1_000_000
        while shell.store.holdingBatches, case let now = PosixClock.now(), now < until {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32((until - now) / 1_000_000) + 1) > 0 else { return }
            shell.journalReadable()
        }
    }

    private func dispatch(_ fd: Int32) {
        if fd == signalFD {
            if readSignals() { shell.context.enqueue(.shutdownRequested) }
        } else if fd == shell.store.readDescriptor {
            shell.store.readEnded()
        } else if fd == shell.verifier?.readDescriptor {
            shell.verifier?.readEnded()
        } else if fd == shell.keyWatcher?.fileDescriptor {
            shell.keyWatcher?.readable()
        } else if fd == shell.kernel.fileDescriptor {
            shell.kernel.readable()
        } else if fd == shell.pollers.subscription {
            shell.pollers.subscriptionReadable()
        } else if fd == shell.journal.fileDescriptor {
            shell.journalReadable()
        } else if fd == shell.store.connectionDescriptor {
            shell.store.connectionReadable()
        }
    }

    /// Milliseconds to the next deadline; -1 (sleep until a socket is ready) when none is armed.
    private func pollTimeout() -> Int32 {
        guard let next = shell.context.nextDeadline() else { return -1 }
        let now = shell.context.now
        return next <= now ? 0 : Int32(min((next - now + 999_999) / 1_000_000, 60_000))
    }
}
