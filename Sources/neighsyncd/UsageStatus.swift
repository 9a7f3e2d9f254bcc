import ArgumentParser
import Foundation

extension Neighsyncd {
    /// ArgumentParser's own `main`, except that a usage error of `reconcile` exits 2, as its
    /// documentation says and scripts test (ArgumentParser exits 64, EX_USAGE): to a script that
    /// runs `reconcile`, 1 means "a plan" and anything else means "the input was not usable".
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if CommandLine.arguments.dropFirst().first == Reconcile._commandName,
                exitCode(for: error) == .validationFailure
            {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
