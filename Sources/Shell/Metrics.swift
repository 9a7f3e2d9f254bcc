import Foundation
import Model
import Reconciler

/// A latency histogram in Prometheus form (cumulative buckets, seconds).
public struct Histogram: Sendable {
    static let bounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    public private(set) var counts = [Int](repeating: 0, count: bounds.count)
    public private(set) var total = 0
    public private(set) var sum = 0.0

    public mutating func observe(_ seconds: Double) {
        for (i, b) in Self.bounds.enumerated() where seconds <= b { counts[i] += 1 }
        total += 1
        sum += seconds
    }

    func render(_ name: String, _ help: String) -> String {
        var s = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (i, b) in Self.bounds.enumerated() { s += "\(name)_bucket{le=\"\(b)\"} \(counts[i])\n" }
        s += "\(name)_bucket{le=\"+Inf\"} \(total)\n\(name)_sum \(sum)\n\(name)_count \(total)\n"
        return s
    }
}

/// The daemon's metrics, written as a node_exporter textfile (atomically: temp file + rename).
public struct Metrics: Sendable {
    public init() {}

    public var batchLatency = Histogram()
    public var dumpLatency = Histogram()
    /// Anti-entropy: the time each verifying read of APPL_DB took.
    public var verifyLatency = Histogram()
    public var redisReconnects = 0
    /// Dumps abandoned because they made no progress (KernelObserver.checkDump).
    public var dumpsStalled = 0
    public var redisErrors = 0
    /// Anti-entropy: APPL_DB keyspace notifications of NEIGH_TABLE taken, and those skipped as malformed.
    public var keyspaceMessages = 0
    public var keyspaceSkipped = 0
    /// From the kernel observer: links whose names cannot be keys, and their neighbors' messages skipped.
    public var linksRefused = 0
    public var neighborsRefused = 0
    /// Dual-ToR: NEIGH_FAILED_TABLE operations written (sets, dels) and refused by Redis.
    public var failedTableSets = 0
    public var failedTableDels = 0
    public var failedTableRefused = 0

    public func render(_ s: DaemonState, redisUp: Bool, logDropped: Int, journalErrors: Int) -> String {
        let c = s.counters
        var out = ""
        func counter(_ name: String, _ help: String, _ v: Int) {
            out += "# HELP neighsyncd_\(name) \(help)\n# TYPE neighsyncd_\(name) counter\nneighsyncd_\(name) \(v)\n"
        }
        func gauge(_ name: String, _ help: String, _ v: Int) {
            out += "# HELP neighsyncd_\(name) \(help)\n# TYPE neighsyncd_\(name) gauge\nneighsyncd_\(name) \(v)\n"
        }
        counter("kernel_messages_total", "Neighbor messages received from the kernel.", c.kernelMessages)
        counter("kernel_messages_ignored_total", "Messages dropped by the decision procedure.", c.ignoredMessages)
        counter("netlink_overruns_total", "Receive-buffer overruns (ENOBUFS on the socket).", c.overruns)
        counter("dumps_total", "Kernel neighbor dumps requested (resyncs included).", c.dumps)
        counter("dumps_interrupted_total", "Dumps redone after NLM_F_DUMP_INTR.", c.dumpsInterrupted)
        counter("dumps_failed_total", "Dumps refused by the kernel or not sent (redone).", c.dumpsFailed)
        counter("dumps_raced_total", "Dumps that read a neighbor after its notification (redone).", c.dumpsRaced)
        counter(
            "dumps_stalled_total",
            "Dumps abandoned after making no progress (redone on a fresh socket).",
            dumpsStalled
        )
        counter("batches_written_total", "Batches written to APPL_DB.", c.batchesWritten)
        counter("batches_acknowledged_total", "Batches whose every reply was read and checked.", c.batchesAcknowledged)
        counter("batches_failed_total", "Batches that could not be confirmed.", c.batchesFailed)
        counter(
            "redis_write_refusals_total",
            "Batches APPL_DB refused with an error reply (OOM, WRONGTYPE); retried.",
            c.batchesRefused
        )
        counter("sets_total", "Acknowledged SET operations.", c.setsAcknowledged)
        counter("dels_total", "Acknowledged DEL operations.", c.delsAcknowledged)
        counter("store_reloads_total", "Times APPL_DB was read back (start and reconnects).", c.storeReloads)
        counter(
            "verifications_total",
            "Verifying reads of APPL_DB compared with the acknowledged view.",
            c.verifications
        )
        counter(
            "verify_failures_total",
            "Verifying reads of APPL_DB that failed (dropped; the next interval reads again).",
            c.verifyFailures
        )
        counter(
            "keyspace_notifications_total",
            "APPL_DB keyspace notifications of NEIGH_TABLE keys received.",
            keyspaceMessages
        )
        counter("keyspace_skipped_total", "APPL_DB keyspace notifications skipped as malformed.", keyspaceSkipped)
        counter(
            "keyspace_verifications_total",
            "Verifying reads of APPL_DB asked for by keyspace notifications the daemon's writes do not explain.",
            c.keyspaceVerifications
        )
        out += "# HELP neighsyncd_drift_found_total NEIGH_TABLE keys found differing from what was acknowledged.\n"
        out += "# TYPE neighsyncd_drift_found_total counter\n"
        for k in DriftKind.allCases {
            out += "neighsyncd_drift_found_total{kind=\"\(k.rawValue)\"} \(c.driftFound[k])\n"
        }
        out += "# HELP neighsyncd_drift_repaired_total Drifted NEIGH_TABLE keys the store agrees on again.\n"
        out += "# TYPE neighsyncd_drift_repaired_total counter\n"
        for k in DriftKind.allCases {
            out += "neighsyncd_drift_repaired_total{kind=\"\(k.rawValue)\"} \(c.driftRepaired[k])\n"
        }
        counter("redis_reconnects_total", "Successful Redis reconnects.", redisReconnects)
        counter("redis_errors_total", "Redis errors.", redisErrors)
        counter("journal_errors_total", "Journal write errors.", journalErrors)
        counter("log_lines_dropped_total", "Log lines dropped because output was too slow.", logDropped)
        counter("failed_table_sets_total", "Dual-ToR: NEIGH_FAILED_TABLE rows written.", failedTableSets)
        counter("failed_table_dels_total", "Dual-ToR: NEIGH_FAILED_TABLE rows removed.", failedTableDels)
        counter(
            "failed_table_refused_total",
            "Dual-ToR: NEIGH_FAILED_TABLE operations Redis refused (not retried).",
            failedTableRefused
        )
        counter("neighbors_refused_total", "Neighbor messages skipped: their link's name is refused.", neighborsRefused)
        gauge("links_refused", "Links whose names are not UTF-8 or hold a control character, '/' or ':'.", linksRefused)
        gauge("desired_entries", "Entries the kernel wants in NEIGH_TABLE.", s.desiredCount)
        gauge("actual_entries", "Entries NEIGH_TABLE holds, as acknowledged.", s.actual.entries.count)
        gauge("pending_changes", "Changes waiting to be written.", s.pendingCount)
        gauge("redis_up", "1 when the APPL_DB connection is up.", redisUp ? 1 : 0)
        gauge(
            "redis_writes_refused",
            "1 from a refused write until the next acknowledged one.",
            s.writesRefused ? 1 : 0
        )
        out += "# HELP neighsyncd_build_info The running release (the value is always 1).\n"
        out += "# TYPE neighsyncd_build_info gauge\n"
        out += "neighsyncd_build_info{version=\"\(NeighsyncdVersion.current)\"} 1\n"
        out += "# HELP neighsyncd_phase Current phase (1 for the current one).\n# TYPE neighsyncd_phase gauge\n"
        for p in Phase.allCases {
            out += "neighsyncd_phase{phase=\"\(p.rawValue)\"} \(s.phase == p ? 1 : 0)\n"
        }
        out += batchLatency.render("neighsyncd_batch_write_seconds", "Time to write and acknowledge one batch.")
        out += dumpLatency.render("neighsyncd_dump_seconds", "Time from a dump request to NLMSG_DONE.")
        out += verifyLatency.render("neighsyncd_verify_seconds", "Time one verifying read of APPL_DB took.")
        return out
    }

}
