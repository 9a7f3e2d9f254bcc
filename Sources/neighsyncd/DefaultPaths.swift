import Foundation
import StoreObserver

/// Where a bare `neighsyncd` finds and keeps things in a SONiC swss container, so that supervisord's
/// `command=/usr/bin/neighsyncd` and `neighsyncd status` need no flags (docs/sonic.md).
enum DefaultPaths {
    /// Mounted into swss from the database container, as for every swss daemon (one per ASIC).
    static let databaseConfig = DatabaseConfig.defaultPath

    /// `/var/log/swss` is mounted read-write from the host, so the journal survives a container
    /// re-create; logrotate there only touches `*.rec` files. It is the same folder in every swss
    /// container of a multi-ASIC switch, so each ASIC's daemon (`NAMESPACE_ID`, as orchagent's
    /// `swss.asicN.rec`) has a journal of its own: one shared would be "in use" for all but one.
    static var journal: String { journal(namespaceID: ProcessInfo.processInfo.environment["NAMESPACE_ID"]) }

    static func journal(namespaceID: String?) -> String {
        let asic = namespaceID.flatMap { id in UInt16(id).map { ".asic\($0)" } } ?? ""
        return "/var/log/swss/neighsyncd/journal\(asic).sqlite"
    }

    /// Container-local: a status of the process running now, gone with the container.
    static let metrics = "/run/neighsyncd/metrics.prom"

    /// `neighsyncd restore`'s progress, beside the daemon's metrics.
    static let restoreMetrics = "/run/neighsyncd/restore.prom"
}
