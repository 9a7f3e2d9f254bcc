import Foundation
import Model
import Restorer
import StoreObserver

/// What `neighsyncd restore` reads besides APPL_DB: STATE_DB's warm-restart switches and members,
/// and the kernel's carrier; and the flag it writes.
struct RestoreInputs {
    let state: RedisConnection

    func mode() throws(RedisError) -> WarmRestartMode {
        func enable(_ scope: String) throws(RedisError) -> String? {
            try state.command(["HGET", "WARM_RESTART_ENABLE_TABLE|\(scope)", "enable"]).string
        }
        return WarmRestartMode(systemEnable: try enable("system"), swssEnable: try enable("swss"))
    }

    /// `NEIGH_RESTORE_TABLE|Flags restored=true`, which neighsyncd waits for (spec §5).
    func setRestoredFlag() throws(RedisError) {
        let reply = try state.command(["HSET", "NEIGH_RESTORE_TABLE|Flags", "restored", "true"])
        if case .error(let text) = reply { throw RedisError(.refused, "HSET NEIGH_RESTORE_TABLE|Flags: \(text)") }
    }

    func readiness(_ interface: InterfaceName) throws(RedisError) -> InterfaceReadiness {
        var members = false
        if RestorePlanner.needsMembers(interface) {
            members = try hasKey(matching: "VLAN_MEMBER_TABLE|\(glob(interface))|*")
            if !members { members = try hasKey(matching: "LAG_MEMBER_TABLE|\(glob(interface))|*") }
        }
        return InterfaceReadiness(carrierUp: Self.carrierUp(interface), hasMembers: members)
    }

    /// `/sys/class/net/<if>/carrier` reads 1 (it fails to read while the link is down). A name
    /// has no `/` (InterfaceName), so the path stays in that folder.
    static func carrierUp(_ interface: InterfaceName) -> Bool {
        guard interface.rawValue != ".", interface.rawValue != ".." else { return false }
        let path = "/sys/class/net/\(interface.rawValue)/carrier"
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let bytes = (try? handle.read(upToCount: 8)) ?? Data()
        return bytes.first == UInt8(ascii: "1")
    }

    /// SCAN until a key matches (STATE_DB's member tables are small).
    private func hasKey(matching pattern: String) throws(RedisError) -> Bool {
        var cursor = "0"
        repeat {
            let reply = try state.command(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"])
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array
            else { throw RedisError(.reply, "SCAN answered \(reply)") }
            if !keys.isEmpty { return true }
            cursor = next
        } while cursor != "0"
        return false
    }

    /// The name with Redis glob characters escaped, so `MATCH` takes it literally.
    private func glob(_ interface: InterfaceName) -> String {
        var out = ""
        for c in interface.rawValue {
            if "*?[]\\".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
