import CNetlink
import Glibc
import Model

/// What the kernel side reports to the daemon.
public enum KernelEvent: Hashable, Sendable {
    case neighbor(NeighborMessage)
    case neighborDumpDone(interrupted: Bool)
    /// ENOBUFS on the socket: notifications were lost (not the kernel's "table full").
    case overrun
    /// An existing interface was renamed or removed.
    case linksChanged
    /// A link's name cannot be a key; its neighbors are skipped (counted in `refusedNeighbors`).
    case linkRefused(RefusedLink)
    case malformed(NetlinkParseError)
    /// The kernel refused a dump request.
    case dumpFailed(errno: Int32)
}

public struct KernelObserverError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Owns the rtnetlink socket: subscription, receive-buffer sizing, dumps, and the parsing of
/// everything that arrives, from one reused buffer.
public final class KernelObserver {
    public let fileDescriptor: Int32
    /// The receive buffer the kernel granted (it doubles the request for bookkeeping).
    public let receiveBufferBytes: Int
    /// True when SO_RCVBUFFORCE was allowed (CAP_NET_ADMIN); otherwise rmem_max capped it.
    public let receiveBufferForced: Bool
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
    /// The socket's drop count when last reported. After an ENOBUFS the kernel raises no other
    /// until the receive queue has emptied, so notifications dropped meanwhile (a burst that
    /// outruns the reader, or one during a dump) are silent; the count is compared when the
    /// socket is drained and a rise is an overrun too.
    private var dropsReported: Int64 = 0

    /// Opens and subscribes the socket. `receiveBuffer` is the requested SO_RCVBUF in bytes.
    public init(receiveBuffer: Int = 16 << 20) throws(KernelObserverError) {
        let fd = nsd_netlink_open()
        guard fd >= 0 else { throw KernelObserverError(operation: "socket(NETLINK_ROUTE)", errno: -fd) }
        var forced: Int32 = 0
        let effective = nsd_netlink_set_rcvbuf(fd, Int32(clamping: receiveBuffer), &forced)
        guard effective >= 0 else { close(fd); throw KernelObserverError(operation: "setsockopt(SO_RCVBUF)", errno: -effective) }
        for group in [UInt32(RTNLGRP_NEIGH.rawValue), UInt32(RTNLGRP_LINK.rawValue)] {
            let rc = nsd_netlink_join(fd, group)
            guard rc == 0 else { close(fd); throw KernelObserverError(operation: "join group \(group)", errno: -rc) }
        }
        fileDescriptor = fd
        receiveBufferBytes = Int(effective)
        receiveBufferForced = forced != 0
        // A dump datagram is at most ~32 KiB; 256 KiB leaves room and is allocated once.
        buffer = .allocate(byteCount: 256 << 10, alignment: 8)
    }

    deinit {
        close(fileDescriptor)
        buffer.deallocate()
    }

    /// Dumps the links (so names are exact), then the neighbors. Reported by `.neighborDumpDone`.
    public func requestNeighborDump() throws(KernelObserverError) {
        neighborDumpWanted = true
        if linkDump == nil && neighborDump == nil { try startLinkDump() }
    }

    private func startLinkDump() throws(KernelObserverError) {
        sequence &+= 1
        let rc = nsd_netlink_request_dump(fileDescriptor, UInt16(RTM_GETLINK), sequence)
        guard rc == 0 else { throw KernelObserverError(operation: "RTM_GETLINK dump request", errno: -rc) }
        linkDump = sequence
    }

    private func startNeighborDump() throws(KernelObserverError) {
        sequence &+= 1
        let rc = nsd_netlink_request_dump(fileDescriptor, UInt16(RTM_GETNEIGH), sequence)
        guard rc == 0 else { throw KernelObserverError(operation: "RTM_GETNEIGH dump request", errno: -rc) }
        neighborDumpWanted = false
        neighborDump = sequence
    }

    /// Reads until the socket is empty (EAGAIN) or `maxDatagrams` were read, handing each event
    /// to `handle`. Returns true when the socket was drained.
    @discardableResult
    public func drain(maxDatagrams: Int = .max, _ handle: (KernelEvent) -> Void) throws(KernelObserverError) -> Bool {
        var datagrams = 0
        while datagrams < maxDatagrams {
            let n = recv(fileDescriptor, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC))
            if n < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK:
                    if let d = socketDrops(), d > dropsReported {
                        dropsReported = d
                        overruns += 1
                        handle(.overrun)
                    }
                    return true
                case EINTR: continue
                case ENOBUFS:
                    if let d = socketDrops() { dropsReported = d }
                    overruns += 1
                    handle(.overrun)
                    continue
                default:
                    throw KernelObserverError(operation: "recv(netlink)", errno: errno)
                }
            }
            datagrams += 1
            if n > buffer.count {
                // Cannot happen with a 256 KiB buffer; if it does, the datagram's tail is lost.
                overruns += 1
                handle(.overrun)
                continue
            }
            var followUp: KernelObserverError?
            NetlinkParser.forEachItem(in: UnsafeRawBufferPointer(rebasing: buffer[..<n])) { item in
                if let e = self.handle(item, handle) { followUp = e }
            }
            if let followUp { throw followUp }
        }
        return false
    }

    /// nil where the kernel does not give it (then ENOBUFS is all there is).
    private func socketDrops() -> Int64? {
        let d = nsd_socket_drops(fileDescriptor)
        return d >= 0 ? Int64(d) : nil
    }

    private func handle(_ item: NetlinkItem, _ emit: (KernelEvent) -> Void) -> KernelObserverError? {
        switch item {
        case .neighbor(let raw, let h):
            guard let ip = raw.destination else {
                malformedMessages += 1
                return nil
            }
            if h.dumpInterrupted && h.sequence == neighborDump { neighborDumpInterrupted = true }
            guard let name = links.name(of: raw.ifindex) else {
                refusedNeighbors += 1
                return nil
            }
            emit(.neighbor(NeighborMessage(
                type: raw.type, family: raw.family, interface: name,
                master: links.master(of: raw.ifindex), destination: ip,
                linkLayerAddress: raw.linkLayerAddress, state: raw.state, flags: raw.flags)))
        case .link(let l, let h):
            // Reported when first seen or renamed, not on every NEWLINK or dump of the link.
            let newlyRefused = l.deleted ? nil : l.refusedName.flatMap { bytes in
                bytes == links.refused[l.index] ? nil : RefusedLink(index: l.index, name: bytes)
            }
            let changed = links.apply(l)
            if let newlyRefused { emit(.linkRefused(newlyRefused)) }
            if changed && h.sequence != linkDump { emit(.linksChanged) }
        case .done(let h):
            if h.sequence == linkDump {
                linkDump = nil
                if neighborDumpWanted {
                    do { try startNeighborDump() } catch { return error }
                }
            } else if h.sequence == neighborDump {
                neighborDump = nil
                emit(.neighborDumpDone(interrupted: h.dumpInterrupted || neighborDumpInterrupted))
                neighborDumpInterrupted = false
                if neighborDumpWanted {
                    do { try startLinkDump() } catch { return error }
                }
            }
        case .error(let code, let h):
            guard code != 0 else { return nil }
            if h.sequence == linkDump || h.sequence == neighborDump {
                linkDump = nil
                neighborDump = nil
                neighborDumpWanted = false
                emit(.dumpFailed(errno: code))
            }
        case .skipped:
            break
        case .malformed(let e):
            malformedMessages += 1
            emit(.malformed(e))
        }
        return nil
    }
}
