import ArgumentParser

/// Programs the crash tests kill at random points (swift-nio's NIOCrashTester is the model): built
/// beside the tests, never shipped in `neighsyncd`.
@main
struct CrashTester: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighsyncd-crash-tester",
        abstract: "Programs for the crash tests (Tests/JournalTests/CrashTests.swift) to kill.",
        subcommands: [JournalExerciseCommand.self]
    )
}
