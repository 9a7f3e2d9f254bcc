/// Where `neighsyncd restore` stands, written as a node_exporter textfile after each pass (and
/// read back by `neighsyncd status` for its `restore:` line).
public struct RestoreProgress: Hashable, Sendable {
    public enum Phase: String, CaseIterable, Sendable {
        /// Passes are running: interfaces still wait for carrier or members, or entries for a retry.
        case restoring
        /// Every entry was restored or refused; the flag is set.
        case done
        /// The timeout passed with entries still waiting; the flag is set all the same (as upstream).
        case timedOut = "timed_out"
        /// Redis or netlink failed: no flag, unless it was set before (`flagSet`).
        case failed
    }

    public var phase: Phase = .restoring
    public var total = 0
    public var restored = 0
    public var refused = 0
    public var waiting = 0
    public var probesSent = 0
    public var passes = 0
    public var seconds = 0
    /// `NEIGH_RESTORE_TABLE|Flags restored=true` is set: neighsyncd goes on; probes may still run.
    public var flagSet = false

    public init() {}

    /// The textfile: one gauge per figure, the phase as one series per value (1 for the current).
    public func render() -> String {
        var out = "# HELP neighsyncd_restore_phase Where neighsyncd restore stands (1: the current phase).\n"
        out += "# TYPE neighsyncd_restore_phase gauge\n"
        for p in Phase.allCases { out += "neighsyncd_restore_phase{phase=\"\(p.rawValue)\"} \(p == phase ? 1 : 0)\n" }
        for (name, help, value) in figures {
            out += "# HELP neighsyncd_restore_\(name) \(help)\n# TYPE neighsyncd_restore_\(name) gauge\n"
            out += "neighsyncd_restore_\(name) \(value)\n"
        }
        return out
    }

    private var figures: [(String, String, Int)] {
        [
            ("entries", "Neighbors to restore (NEIGH_TABLE, lo and malformed ones left out).", total),
            ("restored", "Neighbors in the kernel (added, or already there).", restored),
            ("refused", "Neighbors the kernel refused (not retried).", refused),
            ("waiting", "Neighbors waiting for their interface or a retry.", waiting),
            ("probes_sent", "ARP/NS probes sent.", probesSent),
            ("passes", "Passes over the interfaces still waiting.", passes),
            ("seconds", "Seconds since the restore began.", seconds),
            ("flag_set", "1 once the restored flag is set (probes may still be running).", flagSet ? 1 : 0),
        ]
    }

    /// Reads a textfile `render` wrote; nil when it is not one (no phase series set to 1).
    public init?(parsing text: String) {
        var values: [String: Int] = [:]
        var phase: Phase?
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Int(parts[1]) else { continue }
            let name = String(parts[0])
            if name.hasPrefix("neighsyncd_restore_phase{"), value == 1,
                let label = name.split(separator: "\"").dropFirst().first
            {
                phase = Phase(rawValue: String(label))
            }
            values[name] = value
        }
        guard let phase else { return nil }
        self.phase = phase
        func v(_ n: String) -> Int { values["neighsyncd_restore_" + n] ?? 0 }
        (total, restored, refused, waiting) = (v("entries"), v("restored"), v("refused"), v("waiting"))
        (probesSent, passes, seconds) = (v("probes_sent"), v("passes"), v("seconds"))
        flagSet = v("flag_set") == 1
    }

    /// `status`'s line.
    public var summary: String {
        "\(phase.rawValue), \(restored) of \(total) restored, \(refused) refused, \(waiting) waiting; "
            + "\(probesSent) probes, \(passes) passes, \(seconds) s; flag \(flagSet ? "set" : "not set")"
    }
}
