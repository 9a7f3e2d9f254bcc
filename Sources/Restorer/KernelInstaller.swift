import CNetlink
import Glibc
import KernelObserver
import Model

/// A failed system call of the restorer, with what an operator needs to act on it.
public struct RestoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }
    public var description: String { "\(operation): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// How the kernel answered one neighbor's RTM_NEWNEIGH.
public enum InstallOutcome: Hashable, Sendable {
    /// Added, or already there (EEXIST: the kernel learned it first; left as it is).
    case installed
    /// ENETDOWN (the link went down meanwhile), or no answer (an ack lost to a full buffer):
    /// try again on the next pass.
    case retry
    /// Any other error (no such interface, bad address): not retried.
    case failed(errno: Int32)
}

/// Adds neighbors to the kernel as NUD_STALE through rtnetlink, many RTM_NEWNEIGH per sendmsg,
/// each acknowledged and matched to its request by sequence number.
public final class KernelInstaller {
    private let fd: Int32
    private var nextSequence: UInt32 = 1
    /// Requests per sendmsg. Every ack is its own skb in our receive buffer, and the kernel drops
    /// acks that do not fit (ENOBUFS): the batch is sized so its acks fit in `receiveBuffer`.
    public let batchSize: Int
    private var receiveBuffer = [UInt8](repeating: 0, count: 256 * 1024)

    /// An unsubscribed rtnetlink socket in the calling thread's network namespace.
    public init(batchSize: Int = 512, receiveBuffer: Int = 8 << 20) throws(RestoreError) {
        let fd = nsd_netlink_open()
        guard fd >= 0 else { throw RestoreError(operation: "socket(NETLINK_ROUTE)", errno: -fd) }
        var forced: Int32 = 0
        let granted = nsd_netlink_set_rcvbuf(fd, Int32(clamping: receiveBuffer), &forced)
        guard granted >= 0 else {
            close(fd)
            throw RestoreError(operation: "setsockopt(SO_RCVBUF)", errno: -granted)
        }
        self.fd = fd
        // An ack costs about 1 KiB of buffer (truesize); keep a margin of two.
        self.batchSize = max(1, min(batchSize, Int(granted) / 2048))
    }

    deinit { close(fd) }

    /// Installs `entries` on `interface`; an interface that no longer exists fails them all (ENODEV).
    public func install(
        _ entries: [NeighborKey: NeighborEntry],
        on interface: InterfaceName
    ) throws(RestoreError) -> [NeighborKey: InstallOutcome] {
        let ifindex = Int32(bitPattern: if_nametoindex(interface.rawValue))
        guard ifindex > 0 else { return entries.mapValues { _ in .failed(errno: ENODEV) } }
        var outcomes: [NeighborKey: InstallOutcome] = [:]
        let all = Array(entries)
        var start = 0
        while start < all.count {
            let end = min(start + batchSize, all.count)
            try sendBatch(all[start..<end], ifindex: ifindex, into: &outcomes)
            start = end
        }
        return outcomes
    }

    private func sendBatch(
        _ batch: ArraySlice<(key: NeighborKey, value: NeighborEntry)>,
        ifindex: Int32,
        into outcomes: inout [NeighborKey: InstallOutcome]
    ) throws(RestoreError) {
        // NLM_F_EXCL as pyroute2's `neigh add`: an entry the kernel already has is not touched
        // (a REACHABLE one would otherwise be set back to STALE) and answers EEXIST.
        let flags = UInt16(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(batch.count * 64)
        var bySequence: [UInt32: NeighborKey] = [:]
        for (key, entry) in batch {
            let sequence = nextSequence
            nextSequence &+= 1
            bySequence[sequence] = key
            let message = RawNeighbor(
                type: .newNeighbor,
                family: key.ip.family.rawValue,
                ifindex: ifindex,
                state: .stale,
                flags: [],
                destination: key.ip,
                linkLayerAddress: .mac(entry.mac)
            )
            NetlinkEncoder.append(message, sequence: sequence, flags: flags, to: &bytes)
        }
        try send(bytes)
        try receiveAcks(&bySequence, into: &outcomes)
        // Requests whose ack never came (dropped for lack of buffer): the next pass sends them again.
        for key in bySequence.values { outcomes[key] = .retry }
    }

    private func send(_ bytes: [UInt8]) throws(RestoreError) {
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        while true {
            let n = bytes.withUnsafeBytes { b in
                withUnsafePointer(to: &address) { a in
                    a.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                    }
                }
            }
            if n >= 0 { return }
            if errno != EINTR { throw RestoreError(operation: "sendto(RTM_NEWNEIGH batch)", errno: errno) }
        }
    }

    /// Reads acks until every request of the batch is answered or none comes within a second
    /// (the kernel acks during sendmsg, so they are already queued).
    private func receiveAcks(
        _ pending: inout [UInt32: NeighborKey],
        into outcomes: inout [NeighborKey: InstallOutcome]
    ) throws(RestoreError) {
        while !pending.isEmpty {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 1000)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return }
            let n = receiveBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_TRUNC)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                // Acks were dropped; those still pending are retried.
                if errno == ENOBUFS { continue }
                throw RestoreError(operation: "recv(rtnetlink acks)", errno: errno)
            }
            // MSG_TRUNC gives the datagram's whole length; parse only what was read.
            let length = min(n, receiveBuffer.count)
            receiveBuffer.withUnsafeBytes { buffer in
                NetlinkParser.forEachItem(in: UnsafeRawBufferPointer(rebasing: buffer[..<length])) { item in
                    guard case .error(let code, let header) = item,
                        let key = pending.removeValue(forKey: header.sequence)
                    else { return }
                    outcomes[key] =
                        switch code {
                        case 0, EEXIST: .installed
                        case ENETDOWN: .retry
                        default: .failed(errno: code)
                        }
                }
            }
        }
    }
}
