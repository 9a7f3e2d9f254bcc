import ArgumentParser
import Foundation
import Model
import Reconciler

extension PlanFormat: ExpressibleByArgument {}

/// `neighsyncd reconcile`: the minimal plan between saved snapshots.
struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the minimal plan that makes a saved APPL_DB equal to a saved kernel table.",
        discussion: """
            Exit status: 0 when nothing is to do, 1 when the plan is not empty, 2 on bad input \
            (every bad entry is reported on stderr, naming its file; the rest is still reconciled).
            """
    )

    @Option(help: ArgumentHelp("The kernel table, as printed by `ip -j neigh show nud all`.", valueName: "file"))
    var kernel: String

    @Option(help: ArgumentHelp("APPL_DB, as printed by `sonic-db-dump -n APPL_DB` (NEIGH_TABLE and pending _NEIGH_TABLE keys).", valueName: "file"))
    var store: String

    @Option(name: .customLong("config-db"),
            help: ArgumentHelp("CONFIG_DB, as printed by `sonic-db-dump -n CONFIG_DB` (link-local, dual-ToR, EVPN). Default: none of them set.", valueName: "file"))
    var configDB: String?

    @Option(help: "Output: text (summary and table), json ({\"set\": …, \"del\": […]}) or redis (one command per line).")
    var format: PlanFormat = .text

    func run() throws {
        let result: OfflineReconcile
        do {
            result = try OfflineReconcile(
                kernel: (try read(kernel), kernel), store: (try read(store), store),
                configDB: try configDB.map { (try read($0), $0) })
        } catch let e as SnapshotFormatError {
            printError("neighsyncd reconcile: \(e)")
            throw ExitCode(2)
        }
        for issue in result.issues { printError("neighsyncd reconcile: \(issue)") }
        print(format.render(result.plan.sorted, unchanged: result.plan.unchanged), terminator: "")
        if !result.issues.isEmpty { throw ExitCode(2) }
        if !result.plan.isEmpty { throw ExitCode(1) }
    }

    private func read(_ path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            printError("neighsyncd reconcile: \(path): cannot read: \(error.localizedDescription)")
            throw ExitCode(2)
        }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
