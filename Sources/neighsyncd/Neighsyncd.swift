import ArgumentParser

@main
struct Neighsyncd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighsyncd",
        abstract: "Keeps SONiC APPL_DB NEIGH_TABLE equal to the kernel's neighbor table.",
        subcommands: [
            Run.self, Status.self, Reconcile.self, Snapshot.self, KernelDump.self, StoreDump.self, Consume.self,
        ]
    )
}
