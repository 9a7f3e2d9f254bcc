import ArgumentParser
import Foundation

extension Neighsyncd {
    /// ArgumentParser's own `main`, except that every usage error exits 2, not 64 (EX_USAGE): to a
    /// script that runs `reconcile`, 1 means "a plan" and anything else "the input was not usable",
    /// and one status for "called wrongly" is simpler to test for than one per subcommand. The daemon
    /// (bare or `run`) says what is wrong in one line, for supervisord's log, not the usage text.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            let first = CommandLine.arguments.dropFirst().first
            let others = configuration.subcommands.map { $0._commandName }.filter { $0 != Run._commandName }
            let daemon = first.map { !others.contains($0) } ?? true
            let text = daemon ? "neighsyncd: \(message(for: error))" : fullMessage(for: error)
            FileHandle.standardError.write(Data((text + "\n").utf8))
            Foundation.exit(2)
        }
    }
}
