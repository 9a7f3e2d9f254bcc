import CNetlink
import Foundation
import Glibc
import Model
import Restorer

/// `neighsyncd-bench restore [ENTRIES [RUNS]]`: `neighsyncd restore`'s install phase
/// (`KernelInstaller`, batched RTM_NEWNEIGH, every ack checked) beside `ip -batch` of the same
/// `neigh add … nud stale` lines in the same run (the kernel's own floor: one request and one ack
/// per entry from a C loop), in a private namespace, the table flushed before each. Then the
/// probes' own cost, unpaced (restore paces them at `--probe-rate`, 1000/s by default).
struct RestoreBench {
    let entries: Int
    let runs: Int
    let namespace = "nsd-bench-\(getpid())"
    static let interfaces = ["Ethernet0", "Ethernet4", "Vlan1000"]

    /// Runs `args` (through env), its stdout returned; nil when it cannot start or fails.
    @discardableResult static func sh(_ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    /// Entry `i`: IPv4 and IPv6 in turn, spread over the interfaces.
    static func neighbor(_ i: Int) -> (key: NeighborKey, entry: NeighborEntry)? {
        let v4 = i % 2 == 0
        let ip = v4 ? IPAddress(ipv4: 0x0A00_0000 | UInt32(i + 1)) : IPAddress(ipv6High: 0x2000 << 48, low: UInt64(i))
        guard let name = InterfaceName(interfaces[i % interfaces.count]) else { return nil }
        let entry = NeighborEntry(mac: MACAddress(rawValue: 0x0200_0000_0000 + UInt64(i)), family: v4 ? .ipv4 : .ipv6)
        return (NeighborKey(interface: name, ip: ip), entry)
    }

    func neighborsInKernel() -> Int {
        Self.sh(["ip", "-n", namespace, "-o", "neigh", "show", "nud", "stale"])?.utf8.filter { $0 == 10 }.count ?? -1
    }

    func flush() {
        for family in ["-4", "-6"] { Self.sh(["ip", "-n", namespace, family, "neigh", "flush", "all"]) }
    }

    func run() -> Int32 {
        guard geteuid() == 0 else {
            print("restore: needs root for a private namespace")
            return 1
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        Self.sh([root + "/scripts/kernel-limits"])
        guard Self.sh(["ip", "netns", "add", namespace]) != nil else {
            print("restore: cannot create namespace \(namespace)")
            return 1
        }
        defer { Self.sh(["ip", "netns", "del", namespace]) }
        // No duplicate address detection: NS probes need a usable link-local source at once.
        for scope in ["all", "default"] {
            Self.sh(["ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.\(scope).accept_dad=0"])
        }
        Self.sh(["ip", "-n", namespace, "link", "add", "Ethernet0", "type", "veth", "peer", "name", "peer0"])
        Self.sh(["ip", "-n", namespace, "link", "add", "Ethernet4", "type", "veth", "peer", "name", "peer4"])
        Self.sh(["ip", "-n", namespace, "link", "add", "Vlan1000", "type", "bridge"])
        for l in Self.interfaces + ["peer0", "peer4"] { Self.sh(["ip", "-n", namespace, "link", "set", l, "up"]) }
        // An IPv4 address each: the ARP probes' source, as restore's (IPv6 has its link-local).
        for (n, l) in Self.interfaces.enumerated() {
            Self.sh(["ip", "-n", namespace, "addr", "add", "192.0.2.\(n + 1)/32", "dev", l])
        }

        var byInterface: [InterfaceName: [NeighborKey: NeighborEntry]] = [:]
        var lines = ""
        for i in 0..<entries {
            guard let (key, entry) = Self.neighbor(i) else { continue }
            byInterface[key.interface, default: [:]][key] = entry
            lines += "neigh add \(key.ip) lladdr \(entry.mac) dev \(key.interface) nud stale\n"
        }
        let batch = FileManager.default.temporaryDirectory.appendingPathComponent("\(namespace).batch")
        guard (try? Data(lines.utf8).write(to: batch)) != nil else {
            print("restore: cannot write \(batch.path)")
            return 1
        }
        defer { try? FileManager.default.removeItem(at: batch) }

        print("restore: \(entries) neighbors (v4 and v6) on \(Self.interfaces.count) interfaces, \(runs) runs")
        var failures = 0
        for run in 1...runs {
            // Alternate which goes first, so neither always meets a freshly grown table.
            var tOurs = 0.0
            var tFloor = 0.0
            var tProbes = 0.0
            var counts: [String: Int] = [:]
            for which in run % 2 == 1 ? ["ours", "ip"] : ["ip", "ours"] {
                flush()
                if which == "ip" {
                    tFloor = seconds { Self.sh(["ip", "-n", namespace, "-batch", batch.path]) }
                } else {
                    let previous = nsd_netns_enter("/var/run/netns/\(namespace)")
                    guard previous >= 0 else {
                        print("restore: setns: \(String(cString: strerror(-previous)))")
                        return 1
                    }
                    defer { _ = nsd_netns_restore(previous) }
                    do {
                        let installer = try KernelInstaller()
                        var refused = 0
                        tOurs = seconds {
                            for (interface, entries) in byInterface {
                                let outcomes = (try? installer.install(entries, on: interface)) ?? [:]
                                refused += entries.count - outcomes.values.filter { $0 == .installed }.count
                            }
                        }
                        if refused > 0 { print("  run \(run): \(refused) not installed by ours") }
                        tProbes = try probeAll(byInterface)
                    } catch {
                        print("restore: \(error)")
                        return 1
                    }
                }
                counts[which] = neighborsInKernel()
            }
            let complete = counts.values.allSatisfy { $0 == entries }
            if !complete { failures += 1 }
            print(
                String(
                    format: "  run %d: install %.0f ms; `ip -batch` floor %.0f ms; ratio %.2fx; in the kernel: %@; "
                        + "probes (unpaced) %.0f ms",
                    run,
                    tOurs * 1000,
                    tFloor * 1000,
                    tOurs / tFloor,
                    counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
                    tProbes * 1000
                )
            )
        }
        return failures == 0 ? 0 : 1
    }

    /// Sends every neighbor's ARP who-has or NS as fast as the sockets take them, from the
    /// interface's first address of the neighbor's family (as `restore` does).
    func probeAll(_ byInterface: [InterfaceName: [NeighborKey: NeighborEntry]]) throws -> Double {
        let prober = NeighborProber()
        let addresses = InterfaceAddresses.read()
        var refused: [Int32: Int] = [:]
        var unsourced = 0
        let t = seconds {
            for (interface, entries) in byInterface {
                let local = addresses[interface]
                let index = Int32(bitPattern: if_nametoindex(interface.rawValue))
                guard index > 0, let mac = local.mac else { continue }
                for key in entries.keys {
                    guard let ip = key.ip.family == .ipv4 ? local.ipv4 : local.ipv6 else {
                        unsourced += 1
                        continue
                    }
                    let code = prober.probe(key.ip, from: ProbeSource(ifindex: index, mac: mac, ip: ip))
                    if code != 0 { refused[code, default: 0] += 1 }
                }
            }
        }
        for (code, count) in refused { print("  \(count) probes refused: \(String(cString: strerror(code)))") }
        if unsourced > 0 { print("  \(unsourced) probes not sent: no address of their family") }
        return t
    }
}
