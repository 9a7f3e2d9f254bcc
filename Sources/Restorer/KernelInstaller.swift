import CNetlink
import Glibc
import KernelObserver
import Model

/// How the kernel answered one neighbor's RTM_NEWNEIGH.
public enum InstallOutcome: Hashable, Sendable {
    /// Added, or already there (EEXIST: the kernel learned it first; left as it is).
    case installed
    /// No answer (an ack lost to a full buffer, or late): try again on the next pass.
    case retry
    /// Any error (no such interface, bad address): not retried. A link that is down is not one:
    /// the kernel takes neighbors on it (checked on 6.x); readiness is the planner's job.
    case failed(errno: Int32)
}

/// Adds neighbors to the kernel as NUD_STALE through rtnetlink, many RTM_NEWNEIGH per sendmsg,
/// each acknowledged and matched to its request by sequence number.
public final class KernelInstaller {
    private let transport: any InstallerTransport
    private var nextSequence: UInt32 = 1
    /// Requests per sendmsg. Every ack is its own skb in our receive buffer, and the kernel drops
    /// acks that do not fit (ENOBUFS): the batch is sized so its acks fit in the buffer.
    public let batchSize: Int
    /// How long to wait for the next ack before the batch's unanswered requests are retried.
    private let ackTimeoutMilliseconds: Int32
    private var receiveBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// An unsubscribed rtnetlink socket in the calling thread's network namespace.
    public convenience init(batchSize: Int = 512, receiveBuffer: Int = 8 << 20) throws(RestoreError) {
        let socket = try RtnetlinkSocket(receiveBuffer: receiveBuffer, subscribed: false)
        self.init(transport: socket, batchSize: batchSize)
    }

    /// Requests go to `transport`; a batch holds at most `batchSize` of them.
    public init(transport: any InstallerTransport, batchSize: Int = 512, ackTimeoutMilliseconds: Int32 = 1000) {
        self.transport = transport
        // An ack costs about 1 KiB of buffer (truesize); keep a margin of two.
        self.batchSize = max(1, min(batchSize, transport.receiveBufferBytes / 2048))
        self.ackTimeoutMilliseconds = ackTimeoutMilliseconds
    }

    /// Installs `entries` on `interface`; an interface that no longer exists fails them all (ENODEV).
    public func install(
        _ entries: [NeighborKey: NeighborEntry],
        on interface: InterfaceName
    ) throws(RestoreError) -> [NeighborKey: InstallOutcome] {
        let ifindex = Int32(bitPattern: if_nametoindex(interface.rawValue))
        guard ifindex > 0 else { return entries.mapValues { _ in .failed(errno: ENODEV) } }
        return try install(entries, ifindex: ifindex)
    }

    /// Installs `entries` on the interface numbered `ifindex`.
    public func install(
        _ entries: [NeighborKey: NeighborEntry],
        ifindex: Int32
    ) throws(RestoreError) -> [NeighborKey: InstallOutcome] {
        var outcomes: [NeighborKey: InstallOutcome] = [:]
        outcomes.reserveCapacity(entries.count)
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
        var pending: [UInt32: NeighborKey] = [:]
        pending.reserveCapacity(batch.count)
        for (key, entry) in batch {
            let sequence = nextSequence
            nextSequence &+= 1
            pending[sequence] = key
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
        let sent = bytes.withUnsafeBytes { transport.send($0) }
        if sent < 0 { throw RestoreError(operation: "sendto(RTM_NEWNEIGH batch)", errno: Int32(clamping: -sent)) }
        // Netlink takes a datagram whole or not at all: a short count means the batch was not taken.
        guard sent == bytes.count else {
            throw RestoreError(operation: "sendto(RTM_NEWNEIGH batch): \(sent) of \(bytes.count) bytes", errno: EIO)
        }
        try receiveAcks(&pending, into: &outcomes)
        // Requests whose ack never came (dropped for lack of buffer): the next pass sends them again.
        for key in pending.values { outcomes[key] = .retry }
    }

    /// Reads acks until every request of the batch is answered or none comes within the ack
    /// timeout (the kernel acks during sendmsg, so they are already queued). Drains without
    /// waiting, and polls only when the queue is empty: one system call per ack.
    private func receiveAcks(
        _ pending: inout [UInt32: NeighborKey],
        into outcomes: inout [NeighborKey: InstallOutcome]
    ) throws(RestoreError) {
        while !pending.isEmpty {
            let n = receiveBuffer.withUnsafeMutableBytes { transport.receive(into: $0) }
            if n < 0 {
                switch Int32(clamping: -n) {
                case EINTR: continue
                // Acks were dropped for lack of buffer; those still pending are retried.
                case ENOBUFS: continue
                case EAGAIN:
                    let ready = transport.waitReadable(milliseconds: ackTimeoutMilliseconds)
                    if ready == 0 { return }
                    if ready < 0 { throw RestoreError(operation: "poll(rtnetlink acks)", errno: -ready) }
                    continue
                case let code: throw RestoreError(operation: "recv(rtnetlink acks)", errno: code)
                }
            }
            // MSG_TRUNC gives the datagram's whole length; parse only what was read.
            let length = min(n, receiveBuffer.count)
            receiveBuffer.withUnsafeBytes { buffer in
                NetlinkParser.forEachItem(in: UnsafeRawBufferPointer(rebasing: buffer[..<length])) { item in
                    // Duplicates and acks of other batches (late ones) find nothing pending.
                    guard case .error(let code, let header) = item,
                        let key = pending.removeValue(forKey: header.sequence)
                    else { return }
                    outcomes[key] = code == 0 || code == EEXIST ? .installed : .failed(errno: code)
                }
            }
        }
    }
}
