import CNetlink
import Foundation
import Glibc

/// A private network namespace for one test, `nsd-<what>-<pid>-<n>`, deleted when the test ends
/// (also on failure). Shared by the kernel observer's and the restorer's tests.
public final class Namespace {
    public let name: String
    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    public init(what: String = "ko") throws {
        guard geteuid() == 0 else {
            throw NamespaceError("network-namespace tests need root (ip netns add); run scripts/test as root")
        }
        try Self.run([Self.packageRoot + "/scripts/kernel-limits"])
        let n = Self.lock.withLock {
            Self.counter += 1
            return Self.counter
        }
        name = "nsd-\(what)-\(getpid())-\(n)"
        try Self.run(["ip", "netns", "add", name])
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    deinit { _ = try? Self.run(["ip", "netns", "del", name]) }

    /// `ip -n NS args…`
    @discardableResult
    public func ip(_ args: String...) throws -> String { try Self.run(["ip", "-n", name] + args) }

    /// `ip -n NS -batch -` with the given lines.
    public func batch(_ lines: [String]) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).batch")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try Self.run(["ip", "-n", name, "-force", "-batch", file.path])
    }

    /// Runs `body` with this thread inside the namespace; sockets made there stay there.
    public func inside<T>(_ body: () throws -> T) throws -> T {
        let previous = nsd_netns_enter("/var/run/netns/\(name)")
        guard previous >= 0 else { throw NamespaceError("setns into \(name): errno \(-previous)") }
        defer { _ = nsd_netns_restore(previous) }
        return try body()
    }

    /// SONiC-named links: Ethernet0 and Ethernet4 (veth), Vlan1000 (bridge).
    public func addSonicLinks() throws {
        try ip("link", "add", "Ethernet0", "type", "veth", "peer", "name", "peer0")
        try ip("link", "add", "Ethernet4", "type", "veth", "peer", "name", "peer4")
        try ip("link", "add", "Vlan1000", "type", "bridge")
        for l in ["Ethernet0", "Ethernet4", "Vlan1000", "peer0", "peer4"] { try ip("link", "set", l, "up") }
    }

    @discardableResult
    public static func run(_ argv: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NamespaceError("\(argv.joined(separator: " ")) failed: \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

public struct NamespaceError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
