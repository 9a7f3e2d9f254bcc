import ArgumentParser
import Foundation
import Glibc
import Journal
import KernelObserver
import Model
import Reconciler
import StoreObserver

/// `neighsyncd snapshot --out FILE`: the kernel's view (after policy) and APPL_DB's, saved as a
/// journal file, for `reconcile --journal` here or elsewhere.
struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save the kernel view (after CONFIG_DB policy) and the APPL_DB view as a journal file.",
        discussion:
            "Serves the network namespace it runs in. The file can be read by `neighsyncd reconcile --journal FILE`."
    )

    @OptionGroup var redis: RedisOptions

    @Option(help: "The journal file to write (must not exist).")
    var out: String

    @Option(help: "Receive buffer to request, in bytes.")
    var rcvbuf = 16 << 20

    func run() throws {
        // lstat, not stat: a dangling symbolic link counts as existing (and Journal refuses it).
        var st = stat()
        guard lstat(out, &st) != 0 else {
            printError("neighsyncd snapshot: \(out) exists; not overwriting it")
            throw ExitCode(2)
        }
        let policy = try ConfigReader.policy(try redis.connect("CONFIG_DB"))
        let (store, issues) = try StoreReader.snapshot(try redis.connect("APPL_DB"))
        for i in issues { printError("neighsyncd snapshot: \(i)") }
        let kernel = try KernelObserver(receiveBuffer: rcvbuf).readTable {
            printError("neighsyncd snapshot: skipped: \($0)")
        }
        let desired = kernel.compactMap { k, n in desiredEntry(for: k, n, policy: policy).map { DesiredEntry(k, $0) } }
        let journal = try Journal(path: out)
        let now = Int64(Date().timeIntervalSince1970)
        try journal.record(.storeReloaded(store), now: now)
        try journal.record(.desiredReplaced(desired), now: now)
        print(
            "\(out): \(desired.count) desired (of \(kernel.count) kernel neighbors), \(store.entries.count) in APPL_DB"
        )
    }
}
