import CNetlink
import Glibc
import KernelObserver
import Model
import Reconciler

/// An in-memory kernel for the embedded runtime: links, a neighbor table, and the one rtnetlink
/// socket the observer has open, with the kernel's behaviour where the daemon's faults came from:
/// a receive queue of bounded bytes, notifications dropped (and counted, ENOBUFS reported once
/// until the queue empties) when it is full, dumps that go on only as the reader makes room, and
/// a dump request whose answer is lost when the queue is full.
public final class FakeKernel {
    public struct Link: Hashable, Sendable {
        public var index: Int32
        public var name: String
        public init(index: Int32, name: String) {
            self.index = index
            self.name = name
        }
    }

    public private(set) var links: [Link]
    /// Neighbors by "ifindex/address", each as the kernel would report it.
    public private(set) var neighbors: [String: RawNeighbor] = [:]
    /// The socket the observer reads; replaced when it reopens one.
    public private(set) var socket: FakeNetlinkSocket?
    /// Bytes a queued notification costs (the kernel charges its skb's true size).
    public var notificationCost = 832
    /// Neighbor messages per dump datagram.
    public var messagesPerDumpDatagram = 8
    public private(set) var socketsOpened = 0

    public init(links: [Link]) { self.links = links }

    /// The observer's socket opener.
    public func open(receiveBuffer: Int) throws(KernelObserverError) -> any NetlinkSocket {
        let s = FakeNetlinkSocket(kernel: self, capacity: max(receiveBuffer, 2 * notificationCost))
        socket = s
        socketsOpened += 1
        return s
    }

    // MARK: the table

    public func set(ifindex: Int32, ip: IPAddress, mac: MACAddress, state: NUDState = .reachable) {
        let n = RawNeighbor(
            type: .newNeighbor,
            family: ip.family.rawValue,
            ifindex: ifindex,
            state: state,
            flags: [],
            destination: ip,
            linkLayerAddress: .mac(mac)
        )
        neighbors[Self.id(ifindex, ip)] = n
        socket?.notify(n)
    }

    public func delete(ifindex: Int32, ip: IPAddress) {
        guard var n = neighbors.removeValue(forKey: Self.id(ifindex, ip)) else { return }
        n.type = .deleteNeighbor
        socket?.notify(n)
    }

    static func id(_ ifindex: Int32, _ ip: IPAddress) -> String { "\(ifindex)/\(ip)" }

    /// What APPL_DB must hold for this table under `policy`, as the core derives it.
    public func desired(policy: Policy = Policy()) -> [NeighborKey: NeighborEntry] {
        var out: [NeighborKey: NeighborEntry] = [:]
        for n in neighbors.values {
            guard let name = links.first(where: { $0.index == n.ifindex }).flatMap({ InterfaceName($0.name) }),
                let ip = n.destination
            else { continue }
            let key = NeighborKey(interface: name, ip: ip)
            let kn = KernelNeighbor(linkLayerAddress: n.linkLayerAddress, state: n.state, flags: n.flags)
            if let e = Reconciler.desiredEntry(for: key, kn, policy: policy) { out[key] = e }
        }
        return out
    }

    /// The dump's messages, in a fixed order (sorted), so a run is the same every time.
    func dumpMessages(sequence: UInt32, type: UInt16) -> [[UInt8]] {
        if type == UInt16(RTM_GETLINK) {
            return links.map { l in
                var b: [UInt8] = []
                NetlinkEncoder.appendLink(index: l.index, name: l.name, sequence: sequence, to: &b)
                return b
            }
        }
        return neighbors.keys.sorted().compactMap { k in
            guard let n = neighbors[k] else { return nil }
            var b: [UInt8] = []
            NetlinkEncoder.append(n, sequence: sequence, flags: UInt16(NLM_F_MULTI), to: &b)
            return b
        }
    }
}

/// The observer's end of the fake kernel's socket.
public final class FakeNetlinkSocket: NetlinkSocket {
    private unowned let kernel: FakeKernel
    public let fileDescriptor: Int32 = -1
    public let receiveBufferBytes: Int
    public let receiveBufferForced = true
    private var queue: [[UInt8]] = []
    private var queueHead = 0
    private var queuedBytes = 0
    private var dropCount: Int64 = 0
    /// An overrun not yet reported by ENOBUFS; after one report none until the queue empties.
    private var overrunPending = false
    private var overrunReported = false
    /// The dump running: its remaining messages and its sequence.
    private var dump: (sequence: UInt32, messages: [[UInt8]], next: Int)?
    /// Datagrams delivered to the reader.
    public private(set) var datagramsRead = 0

    init(kernel: FakeKernel, capacity: Int) {
        self.kernel = kernel
        receiveBufferBytes = capacity
    }

    /// Something waits to be read (a datagram, or an overrun to report).
    public var readable: Bool { queueHead < queue.count || overrunPending }

    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if overrunPending {
            overrunPending = false
            overrunReported = true
            return -Int(ENOBUFS)
        }
        guard queueHead < queue.count else { return -Int(EAGAIN) }
        let d = queue[queueHead]
        queueHead += 1
        queuedBytes -= cost(d)
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
            overrunReported = false
        }
        datagramsRead += 1
        let n = min(d.count, buffer.count)
        d.withUnsafeBytes { src in
            if let from = src.baseAddress { buffer.baseAddress?.copyMemory(from: from, byteCount: n) }
        }
        continueDump()
        return d.count
    }

    public func requestDump(type: UInt16, sequence: UInt32) -> Int32 {
        var done: [UInt8] = []
        NetlinkEncoder.appendDone(sequence: sequence, to: &done)
        dump = (sequence, kernel.dumpMessages(sequence: sequence, type: type) + [done], 0)
        // The kernel answers at once; with the queue full, the answer (or the refusal) is lost.
        if !continueDump() {
            dump = nil
            dropCount += 1
        }
        return 0
    }

    public func nudge(sequence: UInt32) -> Int32 {
        var ack: [UInt8] = []
        NetlinkEncoder.appendError(errno: 0, sequence: sequence, to: &ack)
        enqueue(ack)
        return 0
    }

    public func drops() -> Int64? { dropCount }

    /// A change notified to the subscribed socket: queued if there is room, else dropped.
    func notify(_ n: RawNeighbor) {
        var b: [UInt8] = []
        NetlinkEncoder.append(n, to: &b)
        enqueue(b)
    }

    private func cost(_ datagram: [UInt8]) -> Int { max(kernel.notificationCost, datagram.count) }

    @discardableResult
    private func enqueue(_ datagram: [UInt8]) -> Bool {
        guard queuedBytes + cost(datagram) <= receiveBufferBytes else {
            dropCount += 1
            if !overrunReported { overrunPending = true }
            return false
        }
        queue.append(datagram)
        queuedBytes += cost(datagram)
        return true
    }

    /// Queues the dump's next datagram if there is room; false when there was none.
    @discardableResult
    private func continueDump() -> Bool {
        guard var d = dump else { return true }
        let end = min(d.next + kernel.messagesPerDumpDatagram, d.messages.count)
        let datagram = Array(d.messages[d.next..<end].joined())
        guard queuedBytes + cost(datagram) <= receiveBufferBytes else { return false }
        queue.append(datagram)
        queuedBytes += cost(datagram)
        d.next = end
        dump = d.next < d.messages.count ? d : nil
        return true
    }
}
