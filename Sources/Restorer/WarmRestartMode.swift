/// Which restart restore_neighbors.py's contract sees (spec §5, last part): its
/// `checkWarmStart("neighsyncd", "swss", False)`, from STATE_DB `WARM_RESTART_ENABLE_TABLE|system`
/// and `|swss` `enable`, and `WARM_RESTART_TABLE|neighsyncd restore_count`.
public enum WarmRestartMode: Equatable, Sendable {
    /// Neither is enabled, or `restore_count` is missing (checkWarmStart falls back to a cold
    /// start, and so does the daemon): nothing to restore and no flag (nobody waits for one).
    case cold
    /// Only swss restarts: the kernel kept its table, so the flag is set at once.
    case containerOnly
    /// A system warm reboot: the kernel's table is empty and must be restored from APPL_DB.
    case systemReboot

    public init(systemEnabled: Bool, swssEnabled: Bool, hasRestoreCount: Bool) {
        if !hasRestoreCount {
            self = .cold
        } else if systemEnabled {
            self = .systemReboot
        } else if swssEnabled {
            self = .containerOnly
        } else {
            self = .cold
        }
    }
}
