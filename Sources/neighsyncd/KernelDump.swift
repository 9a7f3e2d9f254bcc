import ArgumentParser
import Foundation
import Glibc
import KernelObserver
import Model
import Reconciler

/// `neighsyncd kernel-dump`: the kernel's neighbor table, read over rtnetlink as the daemon reads it.
struct KernelDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel-dump",
        abstract: "Print the kernel's neighbor table after policy, in the form `reconcile --kernel` reads.",
        discussion: "Serves the network namespace it runs in (`ip netns exec NS neighsyncd kernel-dump`)."
    )

    @Flag(help: "Print JSON as `ip -j neigh show` does (the default is one line per neighbor).")
    var json = false

    @Flag(help: "Print every neighbor, also those the decision procedure would not publish.")
    var all = false

    @Option(
        name: .customLong("config-db"),
        help: ArgumentHelp(
            "CONFIG_DB as printed by `sonic-db-dump -n CONFIG_DB`, for the policy. Default: none set.",
            valueName: "file"
        )
    )
    var configDB: String?

    @Option(help: "Receive buffer to request, in bytes.")
    var rcvbuf = 16 << 20

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
        let shown = all ? table : table.filter { desiredEntry(for: $0.key, $0.value, policy: policy) != nil }
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
