import ArgumentParser
import Foundation
import Journal
import JournalExercise

/// `neighsyncd-crash-tester journal-exercise`: writes a deterministic stream of batches to a
/// journal, printing each committed batch number. The crash test kills it at random points.
struct JournalExerciseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal-exercise",
        abstract: "Write a deterministic stream of batches to a journal."
    )

    @Option var journal: String
    @Option var batches = 100_000

    func validate() throws {
        guard batches >= 1 else { throw ValidationError("--batches must be at least 1, not \(batches)") }
    }

    func run() throws {
        let j = try Journal(path: journal)
        for n in 1...batches {
            let b = JournalExercise.batch(n)
            try j.record(.batchWritten(b), now: Int64(n))
            try j.record(.batchApplied(b), now: Int64(n))
            FileHandle.standardOutput.write(Data("\(n)\n".utf8))  // unbuffered: printed means committed
        }
    }
}
