import CNetlink
import Glibc

/// The rtnetlink socket a `KernelObserver` reads: the kernel's (`RtnetlinkSocket`), or a test's
/// fake that replays bursts, overruns and drop counts under a virtual clock.
public protocol NetlinkSocket: AnyObject {
    /// What the event loop polls; -1 when there is nothing to poll (a fake).
    var fileDescriptor: Int32 { get }
    /// The receive buffer the kernel granted (it doubles the request for bookkeeping).
    var receiveBufferBytes: Int { get }
    /// True when SO_RCVBUFFORCE was allowed (CAP_NET_ADMIN); otherwise rmem_max capped it.
    var receiveBufferForced: Bool { get }
    /// One datagram, as `recv(MSG_TRUNC)`: its whole length (which may exceed the buffer), or -errno.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int
    /// Asks for a dump of `type` (RTM_GETLINK, RTM_GETNEIGH); 0, or -errno.
    func requestDump(type: UInt16, sequence: UInt32) -> Int32
    /// Sends an NLMSG_NOOP asking for an ack (see `KernelObserver.checkDump`); 0, or -errno.
    func nudge(sequence: UInt32) -> Int32
    /// The socket's drop count (SO_MEMINFO); nil where the kernel does not give it.
    func drops() -> Int64?
}

/// Opens a socket subscribed to neighbor and link changes, with `receiveBuffer` bytes requested.
public typealias NetlinkSocketOpener = (_ receiveBuffer: Int) throws(KernelObserverError) -> any NetlinkSocket

/// The kernel's rtnetlink socket, subscribed to neighbor and link changes (or, for requests of
/// its own such as the restorer's, to nothing). Non-blocking. Closed when released.
public final class RtnetlinkSocket: NetlinkSocket {
    public let fileDescriptor: Int32
    public let receiveBufferBytes: Int
    public let receiveBufferForced: Bool

    /// A socket subscribed to neighbor and link changes (unless `subscribed` is false: then only
    /// answers to its own requests arrive), before any dump is asked for.
    public init(receiveBuffer: Int, subscribed: Bool = true) throws(KernelObserverError) {
        let fd = nsd_netlink_open()
        guard fd >= 0 else { throw KernelObserverError(operation: "socket(NETLINK_ROUTE)", errno: -fd) }
        var forced: Int32 = 0
        let effective = nsd_netlink_set_rcvbuf(fd, Int32(clamping: receiveBuffer), &forced)
        guard effective >= 0 else {
            close(fd)
            throw KernelObserverError(operation: "setsockopt(SO_RCVBUF)", errno: -effective)
        }
        for group in subscribed ? [UInt32(RTNLGRP_NEIGH.rawValue), UInt32(RTNLGRP_LINK.rawValue)] : [] {
            let rc = nsd_netlink_join(fd, group)
            guard rc == 0 else {
                close(fd)
                throw KernelObserverError(operation: "join group \(group)", errno: -rc)
            }
        }
        fileDescriptor = fd
        receiveBufferBytes = Int(effective)
        receiveBufferForced = forced != 0
    }

    public static func open(receiveBuffer: Int) throws(KernelObserverError) -> any NetlinkSocket {
        try RtnetlinkSocket(receiveBuffer: receiveBuffer)
    }

    deinit { close(fileDescriptor) }

    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = recv(fileDescriptor, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC))
        return n >= 0 ? n : -Int(errno)
    }

    /// Sends `bytes` as one datagram to the kernel: the bytes sent, or -errno (EINTR retried).
    public func send(_ bytes: UnsafeRawBufferPointer) -> Int {
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let length = socklen_t(MemoryLayout<sockaddr_nl>.size)
        while true {
            let n = withUnsafePointer(to: &address) { a in
                a.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fileDescriptor, bytes.baseAddress, bytes.count, 0, $0, length)
                }
            }
            if n >= 0 { return n }
            let code = errno
            if code != EINTR { return -Int(code) }
        }
    }

    /// Waits up to `milliseconds` for a datagram: 1 when one is queued, 0 on timeout, or -errno
    /// (EINTR retried with the whole wait: a signal only delays it).
    public func waitReadable(milliseconds: Int32) -> Int32 {
        var p = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&p, 1, milliseconds)
            if ready >= 0 { return ready > 0 ? 1 : 0 }
            let code = errno
            if code != EINTR { return -code }
        }
    }

    public func requestDump(type: UInt16, sequence: UInt32) -> Int32 {
        nsd_netlink_request_dump(fileDescriptor, type, sequence)
    }

    public func nudge(sequence: UInt32) -> Int32 { nsd_netlink_nudge(fileDescriptor, sequence) }

    public func drops() -> Int64? {
        let d = nsd_socket_drops(fileDescriptor)
        return d >= 0 ? Int64(d) : nil
    }
}
