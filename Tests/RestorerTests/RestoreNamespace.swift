import CNetlink
import Foundation
import Glibc

/// A private network namespace `nsd-restore-<pid>-<n>`, deleted when released (also when a test fails).
/// The restorer's counterpart of KernelObserverTests' `Namespace`: same commands, fewer helpers.
final class RestoreNamespace {
    let name: String
    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    init() throws {
        guard geteuid() == 0 else { throw RestoreTestError("restore namespace tests need root (ip netns add)") }
        let n = Self.lock.withLock {
            Self.counter += 1
            return Self.counter
        }
        name = "nsd-restore-\(getpid())-\(n)"
        try Self.run(["ip", "netns", "add", name])
    }

    deinit { _ = try? Self.run(["ip", "netns", "del", name]) }

    @discardableResult
    func ip(_ args: String...) throws -> String { try Self.run(["ip", "-n", name] + args) }

    /// Runs `body` with this thread inside the namespace.
    func inside<T>(_ body: () throws -> T) throws -> T {
        let previous = nsd_netns_enter("/var/run/netns/\(name)")
        guard previous >= 0 else { throw RestoreTestError("setns into \(name): errno \(-previous)") }
        defer { _ = nsd_netns_restore(previous) }
        return try body()
    }

    @discardableResult
    static func run(_ argv: [String]) throws -> String {
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
            throw RestoreTestError("\(argv.joined(separator: " ")) failed: \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

struct RestoreTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
