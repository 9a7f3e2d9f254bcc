import ArgumentParser
import Foundation
import Glibc
import KernelObserver
import Model
import Reconciler

/// `neighsyncd kernel-dump`: the kernel's neighbor table, read over rtnetlink as the daemon reads it.
/// Raw by default, every entry in every state, so that a saved snapshot keeps what a policy may
/// need later: `reconcile --kernel` applies the decision procedure itself.
struct KernelDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel-dump",
        abstract: "Print the kernel's whole neighbor table (`--json`: the form `reconcile --kernel` reads).",
        discussion: """
            Every entry in every state, as `ip -j neigh show nud all` lists them; `reconcile --kernel` \
            applies the decision procedure, so a raw snapshot gives the same plan as a filtered one. \
            --published shows only what the daemon would publish. Serves the network namespace it \
            runs in (`ip netns exec NS neighsyncd kernel-dump`).
            """
    )

    @Flag(help: "Print JSON as `ip -j neigh show` does (the default is one line per neighbor).")
    var json = false

    @Flag(
        help: ArgumentHelp(
            "Print only the neighbors the daemon would publish to APPL_DB (the decision procedure, under the "
                + "--config-db policy)."
        )
    )
    var published = false

    @Option(
        name: .customLong("config-db"),
        help: ArgumentHelp(
            "CONFIG_DB as printed by `sonic-db-dump -n CONFIG_DB`, for the policy of --published. Default: none set.",
            valueName: "file"
        )
    )
    var configDB: String?

    @Option(help: "Receive buffer to request, in bytes.")
    var rcvbuf = 16 << 20

    func validate() throws {
        if configDB != nil && !published {
            throw ValidationError("--config-db is the policy of --published; give both")
        }
    }

    func run() throws {
        var policy = Policy()
        if let path = configDB {
            do {
                let parsed = try RedisDump.parse(try InputFile.read(path), source: path)
                let hashes = RedisDump.hashes(parsed.values)
                for w in parsed.warnings + Policy.doubtfulSettings(configDB: hashes, source: path) {
                    printError("neighsyncd kernel-dump: warning: \(w)")
                }
                for i in parsed.issues { printError("neighsyncd kernel-dump: \(i)") }
                policy = Policy(configDB: hashes)
            } catch {
                printError("neighsyncd kernel-dump: \(error)")
                throw ExitCode(2)
            }
        }
        let table: [NeighborKey: KernelNeighbor]
        do {
            table = try KernelObserver(receiveBuffer: rcvbuf).readTable {
                printError("neighsyncd kernel-dump: skipped: \($0)")
            }
        } catch {
            printError("neighsyncd kernel-dump: \(error)")
            throw ExitCode(1)
        }
        let shown = published ? table.filter { desiredEntry(for: $0.key, $0.value, policy: policy) != nil } : table
        if json {
            FileHandle.standardOutput.write(IPNeighJSON.render(shown))
            print()
        } else {
            for k in shown.keys.sorted() {
                let n = shown[k]!
                let ll: String =
                    switch n.linkLayerAddress {
                    case .mac(let m): m.description
                    case .absent: "-"
                    case .otherLength(let l): "(\(l) bytes)"
                    }
                let flags =
                    (n.flags.contains(.extLearned) ? " extern_learn" : "")
                    + (n.flags.contains(.router) ? " router" : "")
                print("\(k.description.escapedForLog) \(ll) \(n.state)\(flags)")
            }
        }
    }
}
