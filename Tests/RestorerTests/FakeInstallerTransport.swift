import Foundation
import Restorer

/// An rtnetlink stand-in for `KernelInstaller`: records each batch sent and answers it with the
/// datagrams `answer` makes from the batch's sequence numbers, queued for `receive`.
final class FakeInstallerTransport: InstallerTransport {
    /// One queued result of `receive`: a datagram (cut to the buffer, its whole length returned,
    /// as `recv(MSG_TRUNC)` does), or -errno.
    enum Queued {
        case datagram([UInt8])
        case error(Int32)
    }

    let receiveBufferBytes: Int
    var answer: ([UInt32]) -> [Queued]
    private(set) var sentSequences: [[UInt32]] = []
    /// Each request's IPv4 destination (NDA_DST, the first attribute), by sequence number.
    private(set) var destinations: [UInt32: UInt32] = [:]
    private(set) var waits = 0
    var queue: [Queued] = []
    /// What `send` returns instead of the datagram's length, when set.
    var sendResult: Int?
    /// What `waitReadable` returns on an empty queue (0: the timeout).
    var emptyWait: Int32 = 0

    init(receiveBufferBytes: Int = 1 << 20, answer: @escaping ([UInt32]) -> [Queued]) {
        self.receiveBufferBytes = receiveBufferBytes
        self.answer = answer
    }

    func send(_ bytes: UnsafeRawBufferPointer) -> Int {
        var sequences: [UInt32] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let sequence = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            sequences.append(sequence)
            if offset + 36 <= bytes.count {
                destinations[sequence] = (32..<36).reduce(0) { $0 << 8 | UInt32(bytes[offset + $1]) }
            }
            offset += max(16, (length + 3) & ~3)
        }
        sentSequences.append(sequences)
        if let sendResult { return sendResult }
        queue += answer(sequences)
        return bytes.count
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard !queue.isEmpty else { return -Int(EAGAIN) }
        switch queue.removeFirst() {
        case .error(let code): return -Int(code)
        case .datagram(let bytes):
            let n = min(bytes.count, buffer.count)
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            return bytes.count
        }
    }

    func waitReadable(milliseconds: Int32) -> Int32 {
        waits += 1
        return queue.isEmpty ? emptyWait : 1
    }

    /// The kernel's NLMSG_ERROR for `sequence`: error `code` (0: an ack), the request's header echoed.
    static func ack(_ sequence: UInt32, errno code: Int32 = 0) -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
        put(UInt32(36))
        put(UInt16(2))  // NLMSG_ERROR
        put(UInt16(0x100))  // NLM_F_CAPPED
        put(sequence)
        put(UInt32(0))
        put(Int32(0) - code)
        put(UInt32(16))  // the request's header, echoed without its body
        put(UInt16(28))  // RTM_NEWNEIGH
        put(UInt16(0x605))
        put(sequence)
        put(UInt32(0))
        return out
    }

    /// An NLMSG_NOOP of `length` bytes (a multiple of 4, 16 or more): filler the installer skips.
    static func noop(length: Int) -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
        put(UInt32(length))
        put(UInt16(1))  // NLMSG_NOOP
        put(UInt16(0))
        put(UInt32(0))
        put(UInt32(0))
        return out + [UInt8](repeating: 0, count: length - 16)
    }

    /// One ack datagram per sequence, in order, all successes.
    static func acks(_ sequences: [UInt32]) -> [Queued] { sequences.map { .datagram(ack($0)) } }
}
