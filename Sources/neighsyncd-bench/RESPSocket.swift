import Foundation
import Glibc

/// A bare Redis client on a unix socket: commands laid out in raw protocol by the caller, replies
/// read one at a time. The write patterns use it so that what they measure is the pattern itself,
/// not the product's writer or hiredis. Benchmark code: a failure throws `RESPSocket.Failure`.
final class RESPSocket {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// A reply, enough of it to check a write's outcome.
    indirect enum Reply {
        case status(String)
        case error(String)
        case integer(Int)
        case bulk([UInt8]?)
        case array([Reply]?)

        /// The first error in this reply or, for an array (EXEC), in its elements.
        var firstError: String? {
            switch self {
            case .error(let e): return e
            case .array(nil): return "EXEC aborted (nil reply)"
            case .array(let items?): return items.lazy.compactMap(\.firstError).first
            default: return nil
            }
        }
        var text: String? {
            switch self {
            case .status(let s): return s
            case .bulk(let b?): return String(decoding: b, as: UTF8.self)
            default: return nil
            }
        }
    }

    private let fd: Int32
    private var input: [UInt8] = []
    private var position = 0
    /// Commands laid out and not yet written.
    private var output: [UInt8] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw Failure(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect \(path): errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Starts a command of `count` arguments; `argument` adds each.
    func command(_ count: Int) {
        output.append(UInt8(ascii: "*"))
        output.append(contentsOf: String(count).utf8)
        output.append(contentsOf: [13, 10])
    }

    func argument(_ s: String) {
        var s = s
        s.withUTF8 { bytes in
            output.append(UInt8(ascii: "$"))
            output.append(contentsOf: String(bytes.count).utf8)
            output.append(contentsOf: [13, 10])
            output.append(contentsOf: bytes)
            output.append(contentsOf: [13, 10])
        }
    }

    func command(_ args: [String]) {
        command(args.count)
        for a in args { argument(a) }
    }

    /// The commands laid out so far, taken out unwritten: a request prepared before a timed run.
    func take() -> [UInt8] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    /// Lays out a request prepared by `take`.
    func append(raw bytes: [UInt8]) { output.append(contentsOf: bytes) }

    /// Writes every command laid out so far.
    func flush() throws {
        var offset = 0
        while offset < output.count {
            let n = output.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "write: errno \(errno)") }
            offset += n
        }
        output.removeAll(keepingCapacity: true)
    }

    /// One command, flushed, its reply read.
    func call(_ args: [String]) throws -> Reply {
        command(args)
        try flush()
        return try reply()
    }

    /// Reads `count` replies and throws on the first error among them.
    func expect(_ count: Int) throws {
        for _ in 0..<count {
            if let e = try reply().firstError { throw Failure(description: "error reply: \(e)") }
        }
    }

    /// Redis's own bound on a bulk string (`proto-max-bulk-len`), applied to lengths and counts read.
    static let maximumLength = 512 << 20

    func reply() throws -> Reply {
        let type = try byte()
        let line = try self.line()
        if type == UInt8(ascii: "$") || type == UInt8(ascii: "*"), let n = Int(line), n > Self.maximumLength {
            throw Failure(description: "reply length \(n) over \(Self.maximumLength)")
        }
        switch type {
        case UInt8(ascii: "+"): return .status(line)
        case UInt8(ascii: "-"): return .error(line)
        case UInt8(ascii: ":"): return .integer(Int(line) ?? 0)
        case UInt8(ascii: "$"):
            guard let n = Int(line), n >= 0 else { return .bulk(nil) }
            let body = try bytes(n + 2)
            return .bulk(Array(body.dropLast(2)))
        case UInt8(ascii: "*"):
            guard let n = Int(line), n >= 0 else { return .array(nil) }
            var items: [Reply] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try reply()) }
            return .array(items)
        default: throw Failure(description: "unexpected reply type \(type)")
        }
    }

    private func fill() throws {
        if position > 0 {
            input.removeFirst(position)
            position = 0
        }
        let old = input.count
        input.append(contentsOf: repeatElement(0, count: 65536))
        let n = input.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, 65536) }
        input.removeLast(65536 - max(n, 0))
        guard n > 0 else { throw Failure(description: n == 0 ? "connection closed" : "read: errno \(errno)") }
    }

    private func byte() throws -> UInt8 {
        while position >= input.count { try fill() }
        defer { position += 1 }
        return input[position]
    }

    private func line() throws -> String {
        while true {
            if let end = input[position...].firstIndex(of: 10) {
                defer { position = end + 1 }
                return String(decoding: input[position..<max(position, end - 1)], as: UTF8.self)
            }
            try fill()
        }
    }

    private func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
        while input.count - position < n { try fill() }
        defer { position += n }
        return input[position..<position + n]
    }
}
