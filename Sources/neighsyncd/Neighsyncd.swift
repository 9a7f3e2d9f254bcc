import ArgumentParser
import Shell

@main
struct Neighsyncd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighsyncd",
        abstract: "Keeps SONiC APPL_DB NEIGH_TABLE equal to the kernel's neighbor table.",
        discussion: """
            With no subcommand, runs the daemon with SONiC's defaults (as `neighsyncd run`), the way \
            swss's supervisord starts it: `command=/usr/bin/neighsyncd`.
            """,
        version: NeighsyncdVersion.current,
        subcommands: [
            Run.self, Status.self, Restore.self, Reconcile.self, Snapshot.self, KernelDump.self, StoreDump.self,
            Consume.self,
        ],
        defaultSubcommand: Run.self
    )
}
