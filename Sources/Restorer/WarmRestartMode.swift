/// Which restart restore_neighbors.py's contract sees (spec §5, last part), from STATE_DB
/// `WARM_RESTART_ENABLE_TABLE|system` and `|swss` `enable`.
public enum WarmRestartMode: Equatable, Sendable {
    /// Neither is enabled: nothing to restore and no flag (neighsyncd does not wait for one).
    case cold
    /// Only swss restarts: the kernel kept its table, so the flag is set at once.
    case containerOnly
    /// A system warm reboot: the kernel's table is empty and must be restored from APPL_DB.
    case systemReboot

    public init(systemEnable: String?, swssEnable: String?) {
        if systemEnable == "true" {
            self = .systemReboot
        } else if swssEnable == "true" {
            self = .containerOnly
        } else {
            self = .cold
        }
    }
}
