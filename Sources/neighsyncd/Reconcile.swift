import ArgumentParser
import Foundation
import Journal
import Model
import Reconciler

extension PlanFormat: ExpressibleByArgument {}

/// `neighsyncd reconcile`: the minimal plan between saved snapshots.
struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the minimal plan that makes a saved APPL_DB equal to a saved kernel table.",
        discussion: """
            Exit status, as diff(1): 0 in sync; 1 the plan is not empty, also when it repairs \
            malformed entries of the store (each one is warned about on stderr, naming file and key); \
            2 trouble: a file that cannot be read or parsed, a kernel, CONFIG_DB or store entry that \
            had to be skipped (each one is reported on stderr, naming its file; the rest is still \
            reconciled, but the plan may DEL a live neighbor), or a usage error. Other warnings (a key \
            or an entry given twice, an unrecognised setting) do not change the status. The json \
            form also lists every issue and the unchanged count ("version": 1). A FILE may be a \
            pipe, e.g. /dev/stdin.
            """
    )

    @Option(help: ArgumentHelp("The kernel table, as printed by `ip -j neigh show nud all`.", valueName: "file"))
    var kernel: String?

    @Option(
        help: ArgumentHelp(
            "APPL_DB, as printed by `sonic-db-dump -n APPL_DB` (NEIGH_TABLE and pending _NEIGH_TABLE keys).",
            valueName: "file"
        )
    )
    var store: String?

    @Option(
        help: ArgumentHelp(
            "A journal file (from `neighsyncd snapshot` or the daemon): reconcile its desired view against its store "
                + "view, instead of --kernel/--store.",
            valueName: "file"
        )
    )
    var journal: String?

    @Option(
        name: .customLong("config-db"),
        help: ArgumentHelp(
            "CONFIG_DB, as printed by `sonic-db-dump -n CONFIG_DB` (link-local, dual-ToR, EVPN). Default: none of "
                + "them set.",
            valueName: "file"
        )
    )
    var configDB: String?

    @Option(
        help: ArgumentHelp(
            "Output: text (summary and table), json ({\"version\": 1, \"set\", \"del\", \"unchanged\", "
                + "\"issues\"}) or redis (one command per line)."
        )
    )
    var format: PlanFormat = .text

    func validate() throws {
        if journal != nil {
            guard kernel == nil, store == nil, configDB == nil else {
                throw ValidationError("--journal replaces --kernel, --store and --config-db")
            }
        } else {
            guard kernel != nil, store != nil else { throw ValidationError("give --kernel and --store, or --journal") }
        }
    }

    func run() throws {
        if let path = journal {
            guard FileManager.default.fileExists(atPath: path) else {
                printError("neighsyncd reconcile: \(path): no such file")
                throw ExitCode(2)
            }
            // Read-only. The desired view is the last dump's brought up to the last batch written,
            // so it is never older than the store view it is compared with.
            let image: JournalImage
            do {
                let reader = try JournalReader(path: path)
                guard try reader.hasDump() else {
                    printError(
                        "neighsyncd reconcile: \(path): no kernel dump recorded yet, "
                            + "so no desired view to compare"
                    )
                    throw ExitCode(2)
                }
                image = try reader.load()
            } catch let error as JournalError {
                printError("neighsyncd reconcile: \(error)")
                throw ExitCode(2)
            }
            let plan = diff(desired: image.desired, actual: image.actual)
            print(format.render(plan.sorted, unchanged: plan.unchanged), terminator: "")
            if !plan.isEmpty { throw ExitCode(1) }
            return
        }
        guard let kernel, let store else { throw ExitCode(2) }
        let result: OfflineReconcile
        do {
            result = try OfflineReconcile(
                kernel: (try read(kernel), kernel),
                store: (try read(store), store),
                configDB: try configDB.map { (try read($0), $0) }
            )
        } catch let e as SnapshotFormatError {
            printError("neighsyncd reconcile: \(e)")
            throw ExitCode(2)
        }
        for warning in result.repairs + result.warnings { printError("neighsyncd reconcile: warning: \(warning)") }
        for issue in result.issues { printError("neighsyncd reconcile: \(issue)") }
        let output = format.render(
            result.plan.sorted,
            unchanged: result.plan.unchanged,
            issues: result.issues + result.repairs,
            warnings: result.warnings
        )
        print(output, terminator: "")
        if !result.issues.isEmpty { throw ExitCode(2) }
        if !result.plan.isEmpty { throw ExitCode(1) }
    }

    private func read(_ path: String) throws -> Data {
        do { return try InputFile.read(path) } catch {
            printError("neighsyncd reconcile: \(error)")
            throw ExitCode(2)
        }
    }
}

/// Writes one line to stderr, its control characters escaped: messages quote file and Redis data.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line.escapedForLog + "\n").utf8))
}
