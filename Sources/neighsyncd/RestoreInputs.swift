import Foundation
import Model
import Restorer
import StoreObserver

/// What `neighsyncd restore` reads besides APPL_DB: STATE_DB's warm-restart keys and VLAN members,
/// and the kernel's carrier and addresses; and the flag it writes.
struct RestoreInputs {
    let warm: WarmRestartStore

    /// Upstream's `checkWarmStart("neighsyncd", "swss", False)`: enabled but without
    /// `restore_count` is a cold start, and a cold start writes `restore_count` 0 (as the daemon
    /// does); the count is never incremented here (the daemon does that).
    func mode() throws(RedisError) -> WarmRestartMode {
        let scopes = try warm.enabledScopes()
        let count = scopes.system || scopes.swss ? try warm.restoreCount() : nil
        let mode = WarmRestartMode(
            systemEnabled: scopes.system,
            swssEnabled: scopes.swss,
            hasRestoreCount: count != nil
        )
        if mode == .cold { try warm.resetRestoreCount() }
        return mode
    }

    /// One pass's view of the interfaces: each one's readiness, and the addresses it was read from
    /// (their MACs are the probes' sources).
    struct PassView {
        var readiness: [InterfaceName: InterfaceReadiness]
        var addresses: InterfaceAddresses

        subscript(_ interface: InterfaceName) -> InterfaceReadiness {
            readiness[interface] ?? InterfaceReadiness(carrierUp: false, hasMembers: false)
        }
    }

    /// Reads, once per pass whatever the number of interfaces: the addresses (one getifaddrs), the
    /// VLANs with members (one SCAN, only if a VLAN waits) and each interface's carrier.
    func view(of interfaces: some Collection<InterfaceName>) throws(RedisError) -> PassView {
        let addresses = InterfaceAddresses.read()
        let vlans = interfaces.filter(RestorePlanner.needsMembers)
        let withMembers = vlans.isEmpty ? [] : try vlansWithMembers(Set(vlans.map(\.rawValue)))
        var readiness: [InterfaceName: InterfaceReadiness] = [:]
        for interface in interfaces {
            let found = addresses[interface]
            readiness[interface] = InterfaceReadiness(
                carrierUp: Self.carrierUp(interface),
                hasMembers: withMembers.contains(interface.rawValue),
                ipv4: found.ipv4,
                ipv6: found.ipv6
            )
        }
        return PassView(readiness: readiness, addresses: addresses)
    }

    /// `/sys/class/net/<if>/carrier` reads 1 (it fails to read while the link is down). A name
    /// has no `/` (InterfaceName), so the path stays in that folder.
    static func carrierUp(_ interface: InterfaceName) -> Bool {
        guard let path = sysPath(interface, "carrier"), let handle = FileHandle(forReadingAtPath: path) else {
            return false
        }
        defer { try? handle.close() }
        let bytes = (try? handle.read(upToCount: 8)) ?? Data()
        return bytes.first == UInt8(ascii: "1")
    }

    /// `/sys/class/net/<if>` exists: the kernel has such an interface (now).
    static func exists(_ interface: InterfaceName) -> Bool {
        sysPath(interface, "").map { FileManager.default.fileExists(atPath: $0) } ?? false
    }

    private static func sysPath(_ interface: InterfaceName, _ file: String) -> String? {
        guard interface.rawValue != ".", interface.rawValue != ".." else { return nil }
        return "/sys/class/net/\(interface.rawValue)/\(file)"
    }

    /// Which of `vlans` have a `VLAN_MEMBER_TABLE|<vlan>|<member>` key: one SCAN of the table's
    /// keys for all of them (not one KEYS or SCAN of all of STATE_DB per VLAN), ending early once
    /// each has been found.
    private func vlansWithMembers(_ vlans: Set<String>) throws(RedisError) -> Set<String> {
        var found: Set<String> = []
        var cursor = "0"
        repeat {
            let reply = try warm.state.command(["SCAN", cursor, "MATCH", "VLAN_MEMBER_TABLE|*", "COUNT", "1000"])
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array
            else { throw RedisError(.reply, "SCAN answered \(reply)") }
            for key in keys {
                let fields = (key.string ?? "").split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
                if fields.count == 3, vlans.contains(String(fields[1])) { found.insert(String(fields[1])) }
            }
            if found.count == vlans.count { break }
            cursor = next
        } while cursor != "0"
        return found
    }
}
