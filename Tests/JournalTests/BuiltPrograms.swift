import Foundation

/// Programs of the package's plain debug build (`.build/debug`, which `swift build` and
/// `scripts/test` make) that tests run as processes of their own. A test `#require`s the file, so a
/// missing build fails it loudly.
enum BuiltPrograms {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug")
    /// The shipped daemon and CLI.
    static let neighsyncd = folder.appendingPathComponent("neighsyncd").path
    /// What the crash tests kill (`Tests/CrashTester`).
    static let crashTester = folder.appendingPathComponent("neighsyncd-crash-tester").path
}
