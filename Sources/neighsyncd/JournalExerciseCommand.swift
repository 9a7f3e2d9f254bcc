import ArgumentParser
import Foundation
import Journal

/// `neighsyncd journal-exercise`: writes a deterministic stream of batches to a journal, printing
/// each committed batch number. The crash test kills it at random points.
struct JournalExerciseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal-exercise", abstract: "Write a deterministic stream of batches to a journal (crash testing).", shouldDisplay: false)

    @Option var journal: String
    @Option var batches = 100_000

    func run() throws {
        let j = try Journal(path: journal)
        for n in 1...batches {
            let b = JournalExercise.batch(n)
            try j.record(.batchWritten(b), now: Int64(n))
            try j.record(.batchApplied(b), now: Int64(n))
            FileHandle.standardOutput.write(Data("\(n)\n".utf8))   // unbuffered: printed means committed
        }
    }
}
