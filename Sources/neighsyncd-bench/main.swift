// neighsyncd-bench: figures for docs/performance.md. Each figure is printed with a baseline
// measured in the same run, so the ratio holds on a noisy shared machine.
//   swift run -c release neighsyncd-bench [entries]
//   swift run -c release neighsyncd-bench restore [entries [runs]]   (issue 15's restore install)
import CNetlink
import Foundation
import Glibc
import Journal
import KernelObserver
import Model
import Reconciler
import StoreObserver

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Best of `runs`: the least disturbed measurement.
func best(_ runs: Int = 3, _ body: () -> Void) -> Double { (0..<runs).map { _ in seconds(body) }.min() ?? 0 }

let n = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 1_000_000
let names = (0..<64).map { InterfaceName("Ethernet\($0 * 4)")! }
func key(_ i: Int) -> NeighborKey {
    NeighborKey(
        interface: names[i % names.count],
        ip: i % 2 == 0
            ? IPAddress(ipv4: 0x0A00_0000 | UInt32(i)) : IPAddress(ipv6High: 0xFC00_0000_0000_0000, low: UInt64(i))
    )
}
func entry(_ i: Int, _ salt: UInt64 = 0) -> NeighborEntry {
    NeighborEntry(mac: MACAddress(rawValue: UInt64(i) &* 0x9E37_79B9 ^ salt), family: i % 2 == 0 ? .ipv4 : .ipv6)
}

// `neighsyncd-bench writes SOCKET [KEYS [PATTERN...]]`: only issue 14's write comparison, against a
// running redis-server (scripts/bench-daemon's same-run baselines). Patterns: WriteComparison.Pattern.
if CommandLine.arguments.dropFirst().first == "writes" {
    let args = Array(CommandLine.arguments.dropFirst(2))
    guard let socketPath = args.first else {
        print("usage: neighsyncd-bench writes SOCKET [KEYS [PATTERN...]]")
        exit(2)
    }
    let count = args.dropFirst().first.flatMap(Int.init) ?? 100_000
    let patterns = args.dropFirst(2).compactMap(WriteComparison.Pattern.init(rawValue:))
    guard patterns.count == args.dropFirst(2).count else {
        let known = WriteComparison.Pattern.allCases.map(\.rawValue)
        print("writes: unknown pattern in \(args.dropFirst(2)); known: \(known)")
        exit(2)
    }
    do {
        try WriteComparison(socketPath: socketPath, keys: (0..<count).map(key), entries: (0..<count).map { entry($0) })
            .run(patterns.isEmpty ? WriteComparison.Pattern.allCases : patterns, runs: WriteComparison.runs)
        exit(0)
    } catch {
        print("writes: \(error)")
        exit(1)
    }
}

// `neighsyncd-bench restore [ENTRIES [RUNS]]`: only issue 15's restore install, against `ip -batch`.
if CommandLine.arguments.dropFirst().first == "restore" {
    let args = CommandLine.arguments.dropFirst(2)
    let entries = args.first.flatMap(Int.init) ?? 100_000
    let runs = args.dropFirst().first.flatMap(Int.init) ?? 3
    exit(RestoreBench(entries: max(1, entries), runs: max(1, runs)).run())
}

// Desired and actual differ by 1% changed MACs, 0.5% added, 0.5% removed.
var desired: [NeighborKey: NeighborEntry] = [:]
desired.reserveCapacity(n)
var actual = StoreSnapshot()
actual.entries.reserveCapacity(n)
for i in 0..<n {
    if i % 200 != 1 { desired[key(i)] = entry(i, i % 100 == 0 ? 1 : 0) }
    if i % 200 != 2 { actual.entries[key(i)] = .valid(entry(i)) }
}
print("neighsyncd-bench: \(n) entries, \(ProcessInfo.processInfo.activeProcessorCount) cores")

// 1. Whole-snapshot diff, against the same diff over string keys and field maps (the shape of
//    upstream's warm-restart cache: map<string, vector<pair<string,string>>>).
var plan = Plan(changes: [], unchanged: 0)
let tDiff = best { plan = diff(desired: desired, actual: actual) }
let sDesired = Dictionary(
    uniqueKeysWithValues: desired.map {
        ($0.key.description, ["neigh": $0.value.mac.description, "family": $0.value.family.description])
    }
)
let sActual = Dictionary(
    uniqueKeysWithValues: actual.entries.map {
        ($0.key.description, ["neigh": $0.value.entry!.mac.description, "family": $0.value.entry!.family.description])
    }
)
var sChanges = 0
let tStringDiff = best {
    sChanges = 0
    for (k, v) in sDesired where sActual[k] != v { sChanges += 1 }
    for k in sActual.keys where sDesired[k] == nil { sChanges += 1 }
}
precondition(sChanges == plan.changes.count, "baseline and diff disagree: \(sChanges) vs \(plan.changes.count)")
print(
    String(
        format:
            "diff %d vs %d entries: %.3f s (%d set, %d del, %d unchanged); string-keyed baseline %.3f s; ratio %.1fx",
        desired.count,
        actual.entries.count,
        tDiff,
        plan.setCount,
        plan.delCount,
        plan.unchanged,
        tStringDiff,
        tStringDiff / tDiff
    )
)

// 2. Per-message decisions, against formatting the message's key text (what upstream does first).
let messages: [NeighborMessage] = (0..<100_000).map { i in
    let k = key(i)
    return NeighborMessage(
        type: i % 10 == 0 ? .deleteNeighbor : .newNeighbor,
        family: k.ip.family.rawValue,
        interface: k.interface,
        destination: k.ip,
        linkLayerAddress: .mac(entry(i).mac),
        state: i % 7 == 0 ? .stale : .reachable
    )
}
let policy = Policy(linkLocalInterfaces: [names[0]])
let rounds = max(1, n / 100_000)
var sets = 0
let tDecide = best {
    sets = 0
    for _ in 0..<rounds { for m in messages { if case .set = decide(m, policy: policy) { sets += 1 } } }
}
var chars = 0
let tFormat = best {
    chars = 0
    for m in messages.prefix(100_000 / 10) { chars += m.key!.description.utf8.count }
}
let decideRate = Double(rounds * messages.count) / tDecide
let formatRate = Double(messages.count / 10) / tFormat
print(
    String(
        format: "decide: %.1f M messages/s (%d sets); key-text formatting baseline %.2f M/s; ratio %.1fx",
        decideRate / 1e6,
        sets,
        formatRate / 1e6,
        decideRate / formatRate
    )
)

// 3. The whole state machine: a cold start over `min(n, 100k)` kernel neighbors to the first batches.
let m = min(n, 100_000)
var tStep = 0.0
var written = 0
tStep = best {
    var state = DaemonState(config: ReconcilerConfig(batchSize: 1000))
    _ = step(&state, .started(StartupConfig(warmStart: false)))
    _ = step(&state, .storeLoaded(StoreSnapshot()))
    // Batches in flight are acknowledged in the order written, as Redis answers them. The store is
    // read, so full batches of SETs go out while the dump goes on (issue 14).
    var inFlight: [Batch] = []
    for i in 0..<m {
        let k = key(i)
        let effects = step(
            &state,
            .kernelMessage(
                NeighborMessage(
                    type: .newNeighbor,
                    family: k.ip.family.rawValue,
                    interface: k.interface,
                    destination: k.ip,
                    linkLayerAddress: .mac(entry(i).mac),
                    state: .reachable
                )
            )
        )
        for case .write(let b) in effects { inFlight.append(b) }
    }
    written = 0
    for case .write(let b) in step(&state, .kernelDumpDone(interrupted: false)) { inFlight.append(b) }
    while !inFlight.isEmpty {
        let b = inFlight.removeFirst()
        written += b.changes.count
        for case .write(let next) in step(&state, .batchAcknowledged(id: b.id)) { inFlight.append(next) }
    }
}
precondition(written == m, "cold start wrote \(written) of \(m)")
print(
    String(
        format:
            "state machine cold start, %d neighbors dumped, diffed, batched and acknowledged: %.3f s (%.2f M "
            + "events/s); upstream measured 10.4-10.9 s per 100k on this machine class",
        m,
        tStep,
        Double(m) / tStep / 1e6
    )
)

// 4. Netlink parsing from an in-memory dump buffer, against walking the message headers only.
do {
    var bytes: [UInt8] = []
    let count = 1_000_000
    bytes.reserveCapacity(count * 40)
    for i in 0..<count {
        let k = key(i)
        NetlinkEncoder.append(
            RawNeighbor(
                type: .newNeighbor,
                family: k.ip.family.rawValue,
                ifindex: Int32(2 + i % 64),
                state: .reachable,
                flags: [],
                destination: k.ip,
                linkLayerAddress: .mac(entry(i).mac)
            ),
            sequence: 1,
            to: &bytes
        )
    }
    var parsed = 0
    let tParse = bytes.withUnsafeBytes { buf in
        best {
            parsed = 0
            NetlinkParser.forEachItem(in: buf) { if case .neighbor = $0 { parsed += 1 } }
        }
    }
    var walked = 0
    let tWalk = bytes.withUnsafeBytes { buf in
        best {
            walked = 0
            var o = 0
            while o + 16 <= buf.count {
                o += (Int(buf.loadUnaligned(fromByteOffset: o, as: UInt32.self)) + 3) & ~3
                walked += 1
            }
        }
    }
    precondition(parsed == count && walked == count)
    print(
        String(
            format:
                "netlink parse: %.1f M neighbor messages/s (%d messages, %.1f MB); header-walk baseline %.1f M/s; "
                + "ratio %.2f",
            Double(count) / tParse / 1e6,
            count,
            Double(bytes.count) / 1e6,
            Double(count) / tWalk / 1e6,
            tWalk / tParse
        )
    )
}

// 5. Dump and parse of 100,000 real kernel neighbors in a private namespace, beside `ip -j neigh show`.
if geteuid() == 0 {
    let ns = "nsd-bench-\(getpid())"
    @discardableResult func sh(_ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        try? p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    sh([root + "/scripts/kernel-limits"])
    sh(["ip", "netns", "add", ns])
    defer { sh(["ip", "netns", "del", ns]) }
    sh(["ip", "-n", ns, "link", "add", "Ethernet0", "type", "veth", "peer", "name", "peer0"])
    sh(["ip", "-n", ns, "link", "add", "Vlan1000", "type", "bridge"])
    for l in ["Ethernet0", "Vlan1000", "peer0"] { sh(["ip", "-n", ns, "link", "set", l, "up"]) }
    let neighbors = 100_000
    let lines =
        (0..<neighbors).map { i in
            let ip =
                i % 2 == 0
                ? "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)"
                : "2000::\(String(i >> 16, radix: 16)):\(String(i & 0xFFFF, radix: 16))"
            let mac = MACAddress(rawValue: 0x0200_0000_0000 + UInt64(i))
            return "neigh replace \(ip) lladdr \(mac) dev \(i % 4 < 2 ? "Ethernet0" : "Vlan1000") nud reachable"
        }.joined(separator: "\n") + "\n"
    let batch = FileManager.default.temporaryDirectory.appendingPathComponent("\(ns).batch")
    try? Data(lines.utf8).write(to: batch)
    defer { try? FileManager.default.removeItem(at: batch) }
    sh(["ip", "-n", ns, "-force", "-batch", batch.path])

    let previous = nsd_netns_enter("/var/run/netns/\(ns)")
    precondition(previous >= 0, "setns failed")
    var got = 0
    let tDump = best(5) {
        guard let o = try? KernelObserver() else { return }
        try? o.requestNeighborDump()
        var done = false
        got = 0
        while !done {
            var p = pollfd(fd: o.fileDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, 1000)
            _ = try? o.drain { e in
                if case .kernelMessage = e { got += 1 }
                if case .kernelDumpDone = e { done = true }
            }
        }
    }
    _ = nsd_netns_restore(previous)
    let tIP = best(5) { sh(["ip", "-n", ns, "-j", "neigh", "show"]) }
    print(
        String(
            format:
                "kernel dump + parse of %d neighbors (links first): %.1f ms; `ip -j neigh show` of the same table "
                + "%.1f ms; ratio %.1fx",
            neighbors,
            tDump * 1000,
            tIP * 1000,
            tIP / tDump
        )
    )
    precondition(got >= neighbors, "dump returned \(got) of \(neighbors)")
} else {
    print("kernel dump: skipped, needs root for a private namespace")
}

// 6. ProducerStateTable writes against a private redis-server: ours (batched, pipelined) beside
//    (a) upstream's pattern — per neighbor one `KEYS PEER_SWITCH|*` and one unpipelined EVALSHA
//    (of upstream's per-key script, `WriteComparison.upstreamScript`) —
//    and (b) `redis-benchmark -P 1000 -t hset`, the server's own limit.
if let redisServer = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(where: {
    FileManager.default.fileExists(atPath: $0)
}) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-bench-redis-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let sock = dir.appendingPathComponent("redis.sock").path
    let server = Process()
    server.executableURL = URL(fileURLWithPath: redisServer)
    server.arguments = [
        "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir.path, "--logfile",
        dir.appendingPathComponent("log").path,
    ]
    try? server.run()
    defer {
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        try? FileManager.default.removeItem(at: dir)
    }
    var conn: RedisConnection?
    for _ in 0..<300 where conn == nil {
        conn = try? RedisConnection(endpoint: .unix(path: sock), database: 0)
        if conn == nil { usleep(10_000) }
    }
    if let c = conn, let config = try? RedisConnection(endpoint: .unix(path: sock), database: 4) {
        let count = 100_000
        let changes: [Change] = (0..<count).map { .set(key($0), entry($0)) }
        let writer = ProducerStateTable(connection: c)
        // Best of 3, each into an empty database: the FLUSHALL of the run before stays off the clock
        // (it frees 200,000 keys, a third of the time it once added to this figure).
        var tOurs = Double.infinity
        for _ in 0..<3 {
            _ = try? c.command(["FLUSHALL"])
            tOurs = min(tOurs, seconds { _ = try? writer.write(Batch(id: 1, changes: changes)) })
        }
        // (a) upstream: 20,000 operations, one round trip pair each, scaled to 100,000.
        _ = try? c.command(["FLUSHALL"])
        let sha = (try? c.command(["SCRIPT", "LOAD", WriteComparison.upstreamScript]))?.string ?? ""
        let names = ProducerStateTableNames.neighTable
        let sample = 20_000
        let tUpstream =
            seconds {
                for i in 0..<sample {
                    _ = try? config.command(["KEYS", "PEER_SWITCH|*"])
                    let k = key(i).description
                    let e = entry(i)
                    _ = try? c.command(
                        ["EVALSHA", sha, "4", names.channel, names.keySet, names.stagingKey(k), names.stagingKey(k)]
                            + ["G", k, "neigh", e.mac.description, "family", e.family.description]
                    )
                }
            } * Double(count) / Double(sample)
        // (b) the server's limit.
        let rb = Process()
        rb.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        rb.arguments = ["redis-benchmark", "-s", sock, "-P", "1000", "-n", String(count), "-t", "hset", "-q"]
        rb.standardOutput = FileHandle.nullDevice
        rb.standardError = FileHandle.nullDevice
        let tLimit = seconds {
            try? rb.run()
            rb.waitUntilExit()
        }
        _ = try? c.command(["FLUSHALL"])
        _ = try? writer.write(Batch(id: 1, changes: changes))
        var read = 0
        let tPending = best { read = (try? StoreReader.snapshot(c))?.snapshot.entries.count ?? 0 }
        _ = try? ConsumerStateTable(connection: c).drain()
        let tRead = best { read = (try? StoreReader.snapshot(c))?.snapshot.entries.count ?? 0 }
        print(
            String(
                format:
                    "StoreReader: %d entries read back in %.0f ms when consumed (as at a warm restart), %.0f ms "
                    + "while all pending",
                read,
                tRead * 1000,
                tPending * 1000
            )
        )
        print(
            String(
                format:
                    "ProducerStateTable: %d SETs in %.0f ms (%.0f K/s); upstream pattern %.0f ms (%.0fx slower); "
                    + "redis-benchmark -P 1000 hset %.0f ms (ours %.1fx its time)",
                count,
                tOurs * 1000,
                Double(count) / tOurs / 1000,
                tUpstream * 1000,
                tUpstream / tOurs,
                tLimit * 1000,
                tOurs / tLimit
            )
        )
        // Issue 14: the floor, the transaction pattern, the product's writer and upstream's pattern.
        do {
            try WriteComparison(socketPath: sock, keys: (0..<count).map(key), entries: (0..<count).map { entry($0) })
                .run(WriteComparison.Pattern.allCases, runs: WriteComparison.runs)
        } catch {
            print("writes: \(error)")
        }
    }
} else {
    print("ProducerStateTable: skipped, no redis-server (scripts/bootstrap installs it)")
}

// 7. The journal: 100,000 changes in batches of 1,000 (written, then applied), and the replay of
//    the resulting 100,000-neighbor journal; beside copying the same file (the disk's pace).
do {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-bench-journal-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let batches = (0..<100).map { b in
        Batch(id: UInt64(b + 1), changes: (0..<1000).map { i in .set(key(b * 1000 + i), entry(b * 1000 + i)) })
    }
    var round = 0
    let tWrite = best {
        round += 1
        guard let j = try? Journal(path: dir.appendingPathComponent("w\(round).sqlite").path) else { return }
        for b in batches {
            try? j.record(.batchWritten(b), now: 0)
            try? j.record(.batchApplied(b), now: 0)
        }
    }
    let path = dir.appendingPathComponent("w1.sqlite").path
    var loaded = 0
    let tReplay = best { loaded = (try? Journal(path: path).load())?.actual.entries.count ?? 0 }
    let tCopy = best {
        _ = try? FileManager.default.removeItem(atPath: path + ".copy")
        _ = try? FileManager.default.copyItem(atPath: path, toPath: path + ".copy")
    }
    print(
        String(
            format:
                "journal: 100,000 changes in 100 batches %.0f ms; replay of %d neighbors %.0f ms; copying the file "
                + "%.1f ms",
            tWrite * 1000,
            loaded,
            tReplay * 1000,
            tCopy * 1000
        )
    )
}
