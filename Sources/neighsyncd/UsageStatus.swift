import ArgumentParser
import Foundation

extension Neighsyncd {
    /// ArgumentParser's own `main`, except that a usage error exits 2, not 64 (EX_USAGE), where a
    /// caller tests the status:
    /// - `reconcile`: to a script, 1 means "a plan" and anything else "the input was not usable";
    /// - the daemon (bare or `run`): supervisord's log gets one line saying what is wrong, not the
    ///   usage text.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                let first = CommandLine.arguments.dropFirst().first
                if first == Reconcile._commandName {
                    FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                    Foundation.exit(2)
                }
                let others = configuration.subcommands.map { $0._commandName }.filter { $0 != Run._commandName }
                if first.map({ !others.contains($0) }) ?? true {
                    FileHandle.standardError.write(Data("neighsyncd: \(message(for: error))\n".utf8))
                    Foundation.exit(2)
                }
            }
            exit(withError: error)
        }
    }
}
