import StoreObserver

/// Where a bare `neighsyncd` finds and keeps things in a SONiC swss container, so that supervisord's
/// `command=/usr/bin/neighsyncd` and `neighsyncd status` need no flags (docs/sonic.md).
enum DefaultPaths {
    /// Mounted into swss from the database container, as for every swss daemon.
    static let databaseConfig = DatabaseConfig.defaultPath
    /// `/var/log/swss` is the one read-write folder swss mounts from the host, so the journal survives
    /// a container re-create. logrotate there only touches `*.rec` files.
    static let journal = "/var/log/swss/neighsyncd/journal.sqlite"
    /// Container-local: a status of the process running now, gone with the container.
    static let metrics = "/run/neighsyncd/metrics.prom"
}
