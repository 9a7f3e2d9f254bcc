import CNetlink
import Glibc
import Model

/// What the kernel side reports that is not an event for the core: only logged and counted.
public enum KernelNotice: Hashable, Sendable {
    /// A link's name cannot be a key; its neighbors are skipped (counted in `refusedNeighbors`).
    case linkRefused(RefusedLink)
    case malformed(NetlinkParseError)
}

public struct KernelObserverError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }
    public var description: String { "\(operation): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Owns the rtnetlink socket: subscription, receive-buffer sizing, dumps, and the parsing of
/// everything that arrives, from one reused buffer.
public final class KernelObserver {
    /// Changes when a stalled dump is abandoned (`checkDump`): poll the current one.
    public var fileDescriptor: Int32 { socket.fileDescriptor }
    /// The receive buffer the kernel granted (it doubles the request for bookkeeping).
    public var receiveBufferBytes: Int { socket.receiveBufferBytes }
    /// True when SO_RCVBUFFORCE was allowed (CAP_NET_ADMIN); otherwise rmem_max capped it.
    public var receiveBufferForced: Bool { socket.receiveBufferForced }
    /// The errno of the last dump the kernel refused (`.kernelDumpFailed`).
    public private(set) var lastDumpRefusal: Int32?
    private var socket: any NetlinkSocket
    private let open: NetlinkSocketOpener
    private let receiveBufferRequested: Int
    public private(set) var links = LinkTable()
    public private(set) var overruns = 0
    public private(set) var malformedMessages = 0
    /// Neighbor messages skipped because their link's name is refused.
    public private(set) var refusedNeighbors = 0

    private var buffer: UnsafeMutableRawBufferPointer
    private var sequence: UInt32 = 0
    private var linkDump: UInt32?
    private var neighborDump: UInt32?
    private var neighborDumpWanted = false
    /// NLM_F_DUMP_INTR was seen on a message of the running neighbor dump.
    private var neighborDumpInterrupted = false
    /// Neighbors notified while the neighbor dump runs. The kernel fills a dump datagram, and a
    /// change notified meanwhile is queued before it: the dump's entry, read after the
    /// notification, is then the older state. Neighbor dumps carry no NLM_F_DUMP_INTR for this.
    private var notifiedDuringDump: Set<DumpedNeighbor> = []
    /// A dump entry came after a notification of the same neighbor (see above).
    private var neighborDumpRaced = false
    /// The socket's drop count when last reported. After an ENOBUFS the kernel raises no other
    /// until the receive queue has emptied, so notifications dropped meanwhile (a burst that
    /// outruns the reader, or one during a dump) are silent; the count is compared when the
    /// socket is drained and a rise is an overrun too.
    private var dropsReported: Int64 = 0
    /// Messages of the running dumps received (and dumps started): the watch's sign of progress.
    private var dumpProgress: UInt64 = 0
    private var dumpWatch: DumpWatch?
    /// The last read found the socket empty (EAGAIN).
    private var drained = false

    /// Opens and subscribes the socket. `receiveBuffer` is the requested SO_RCVBUF in bytes.
    public init(
        receiveBuffer: Int = 16 << 20,
        open: @escaping NetlinkSocketOpener = RtnetlinkSocket.open
    )
        throws(KernelObserverError)
    {
        socket = try open(receiveBuffer)
        self.open = open
        receiveBufferRequested = receiveBuffer
        // A dump datagram is at most ~32 KiB; 256 KiB leaves room and is allocated once.
        buffer = .allocate(byteCount: 256 << 10, alignment: 8)
    }

    deinit { buffer.deallocate() }

    /// Dumps the links (so names are exact), then the neighbors. Reported by `.neighborDumpDone`.
    public func requestNeighborDump() throws(KernelObserverError) {
        neighborDumpWanted = true
        if linkDump == nil && neighborDump == nil { try startLinkDump() }
    }

    private func startLinkDump() throws(KernelObserverError) {
        sequence &+= 1
        let rc = socket.requestDump(type: UInt16(RTM_GETLINK), sequence: sequence)
        guard rc == 0 else { throw KernelObserverError(operation: "RTM_GETLINK dump request", errno: -rc) }
        linkDump = sequence
        dumpProgress &+= 1
    }

    private func startNeighborDump() throws(KernelObserverError) {
        sequence &+= 1
        let rc = socket.requestDump(type: UInt16(RTM_GETNEIGH), sequence: sequence)
        guard rc == 0 else { throw KernelObserverError(operation: "RTM_GETNEIGH dump request", errno: -rc) }
        neighborDumpWanted = false
        neighborDump = sequence
        dumpProgress &+= 1
    }

    /// Reads until the socket is empty (EAGAIN) or `maxDatagrams` were read, handing each event
    /// for the core to `handle` and each notice to `notice`. Returns true when the socket was drained.
    @discardableResult
    public func drain(
        maxDatagrams: Int = .max,
        notice: (KernelNotice) -> Void = { _ in },
        _ handle: (Event) -> Void
    ) throws(KernelObserverError) -> Bool {
        var datagrams = 0
        while datagrams < maxDatagrams {
            let n = socket.receive(into: buffer)
            if n < 0 {
                switch Int32(clamping: -n) {
                case EAGAIN, EWOULDBLOCK:
                    drained = true
                    if let d = socket.drops(), d > dropsReported {
                        dropsReported = d
                        overruns += 1
                        handle(.kernelOverrun)
                    }
                    return true
                case EINTR: continue
                case ENOBUFS:
                    if let d = socket.drops() { dropsReported = d }
                    overruns += 1
                    handle(.kernelOverrun)
                    continue
                case let code:
                    throw KernelObserverError(operation: "recv(netlink)", errno: code)
                }
            }
            datagrams += 1
            drained = false
            if n > buffer.count {
                // Cannot happen with a 256 KiB buffer; if it does, the datagram's tail is lost.
                overruns += 1
                handle(.kernelOverrun)
                continue
            }
            NetlinkParser.forEachItem(in: UnsafeRawBufferPointer(rebasing: buffer[..<n])) { item in
                self.handle(item, handle, notice)
            }
        }
        return false
    }

    private func handle(_ item: NetlinkItem, _ emit: (Event) -> Void, _ notice: (KernelNotice) -> Void) {
        switch item {
        case .neighbor(let raw, let h):
            if h.sequence == neighborDump {
                dumpProgress &+= 1
                if h.dumpInterrupted { neighborDumpInterrupted = true }
            }
            guard let ip = raw.destination else {
                malformedMessages += 1
                return
            }
            if neighborDump != nil {
                let neighbor = DumpedNeighbor(ifindex: raw.ifindex, ip: ip)
                if h.sequence != neighborDump {
                    notifiedDuringDump.insert(neighbor)
                } else if !neighborDumpRaced && notifiedDuringDump.contains(neighbor) {
                    neighborDumpRaced = true
                }
            }
            guard let name = links.name(of: raw.ifindex) else {
                refusedNeighbors += 1
                return
            }
            emit(
                .kernelMessage(
                    NeighborMessage(
                        type: raw.type,
                        family: raw.family,
                        interface: name,
                        master: links.master(of: raw.ifindex),
                        destination: ip,
                        linkLayerAddress: raw.linkLayerAddress,
                        state: raw.state,
                        flags: raw.flags
                    )
                )
            )
        case .link(let l, let h):
            // Reported when first seen or renamed, not on every NEWLINK or dump of the link.
            let newlyRefused =
                l.deleted
                ? nil
                : l.refusedName.flatMap { bytes in
                    bytes == links.refused[l.index] ? nil : RefusedLink(index: l.index, name: bytes)
                }
            let changed = links.apply(l)
            if h.sequence == linkDump { dumpProgress &+= 1 }
            if let newlyRefused { notice(.linkRefused(newlyRefused)) }
            if changed && h.sequence != linkDump { emit(.linksChanged) }
        case .done(let h):
            if h.sequence == linkDump {
                linkDump = nil
                if neighborDumpWanted {
                    do { try startNeighborDump() } catch { dumpFailed(error.errno, emit) }
                }
            } else if h.sequence == neighborDump {
                neighborDump = nil
                if neighborDumpRaced { emit(.kernelDumpRaced) }
                emit(.kernelDumpDone(interrupted: h.dumpInterrupted || neighborDumpInterrupted))
                neighborDumpInterrupted = false
                neighborDumpRaced = false
                notifiedDuringDump = []
                if neighborDumpWanted {
                    do { try startLinkDump() } catch { dumpFailed(error.errno, emit) }
                }
            }
        case .error(let code, let h):
            guard code != 0 else { return }  // an ack: of a nudge (`checkDump`); no dump asks for one
            if h.sequence == linkDump || h.sequence == neighborDump { dumpFailed(code, emit) }
        case .skipped:
            break
        case .malformed(let e):
            malformedMessages += 1
            notice(.malformed(e))
        }
    }

    /// The dump asked for will not end in NLMSG_DONE: the daemon must be told, or it would wait
    /// for it forever. Every request is forgotten; the next `requestNeighborDump` starts afresh.
    private func dumpFailed(_ errno: Int32, _ emit: (Event) -> Void) {
        forgetDumps()
        lastDumpRefusal = errno
        emit(.kernelDumpFailed(reason: "netlink dump refused: \(String(cString: strerror(errno)))"))
    }

    private func forgetDumps() {
        linkDump = nil
        neighborDump = nil
        neighborDumpWanted = false
        neighborDumpInterrupted = false
        neighborDumpRaced = false
        notifiedDuringDump = []
        dumpWatch = nil
    }

    /// A dump was asked for and its NLMSG_DONE (or refusal) has not arrived.
    public var dumpOutstanding: Bool { linkDump != nil || neighborDump != nil }

    /// Call every few hundred milliseconds while `dumpOutstanding`, with a monotonic `now` in
    /// nanoseconds. A dump still for a while with the socket drained is nudged: the kernel goes
    /// on with a dump that found the queue full only after a datagram is received, and the ack
    /// of an NLMSG_NOOP is one. Still longer (its request or refusal lost to a full queue, which
    /// no nudge brings back), it is abandoned: the socket is closed and a fresh one subscribed,
    /// ending whatever the kernel still ran for the old one. The caller then asks for a new dump,
    /// which also covers the notifications lost meanwhile (so too when the nudge cannot be sent).
    /// The fresh socket is made in the calling thread's network namespace. Throws when none can
    /// be had: the dump is abandoned all the same, the old socket kept.
    public func checkDump(now: UInt64) throws(KernelObserverError) -> DumpCheck {
        guard dumpOutstanding else {
            dumpWatch = nil
            return .idle
        }
        guard var watch = dumpWatch else {
            dumpWatch = DumpWatch(progress: dumpProgress, now: now)
            return .waiting
        }
        let action = watch.check(progress: dumpProgress, now: now, drained: drained)
        dumpWatch = watch
        switch action {
        case .none:
            return .waiting
        case .nudge(let stalled):
            sequence &+= 1
            // A socket the nudge cannot be sent on is no better than a stalled dump.
            guard socket.nudge(sequence: sequence) == 0 else { return try abandon(stalled) }
            return .nudged(stalledNanoseconds: stalled)
        case .abandon(let stalled):
            return try abandon(stalled)
        }
    }

    private func abandon(_ stalled: UInt64) throws(KernelObserverError) -> DumpCheck {
        forgetDumps()
        try reopen()
        return .abandoned(stalledNanoseconds: stalled)
    }

    private func reopen() throws(KernelObserverError) {
        socket = try open(receiveBufferRequested)
        dropsReported = 0
        drained = false
    }
}

/// A neighbor as the kernel names it in a message: its link and address.
private struct DumpedNeighbor: Hashable {
    var ifindex: Int32
    var ip: IPAddress
}
