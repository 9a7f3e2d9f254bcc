import Foundation

/// A child run of the test binary that did not print what was asked of it.
public struct ChildTestError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs this test binary again for `test` alone, with `environment` added and deterministic
/// hashing on or off, and returns the one line it printed that starts with `prefix`. Throws when
/// the binary cannot be started, fails, or prints no such line or more than one: the test fails,
/// saying why.
public func lineFromTestInChildProcess(
    _ test: String,
    environment added: [String: String],
    deterministicHashing: Bool,
    prefix: String
) throws -> String {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["--testing-library", "swift-testing", "--filter", test]
    var environment = ProcessInfo.processInfo.environment
    environment.merge(added) { _, new in new }
    environment["SWIFT_DETERMINISTIC_HASHING"] = deterministicHashing ? "1" : nil
    child.environment = environment
    let output = Pipe()
    child.standardOutput = output
    child.standardError = output
    try child.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    child.waitUntilExit()
    let lines = text.split(separator: "\n").filter { $0.hasPrefix(prefix) }
    guard child.terminationStatus == 0, lines.count == 1 else {
        let binary = CommandLine.arguments[0]
        throw ChildTestError(
            description: "\(binary) exited \(child.terminationStatus) with \(lines.count) '\(prefix)' lines:\n\(text)"
        )
    }
    return String(lines[0])
}
