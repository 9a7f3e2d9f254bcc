import Model

@testable import Reconciler

/// Turns generated numbers into a world and a sequence of actions. Generating plain numbers
/// keeps shrinking effective: dropping a number drops one action.
enum Universe {
    static let interfaces = ["Ethernet0", "Ethernet4", "Vlan1000", "eth0"].map { InterfaceName($0)! }
    static let ips = ["10.0.0.1", "10.0.0.2", "169.254.0.1", "2000::2", "fe80::1", "ff02::16"].map { IPAddress($0)! }
    static let keys: [NeighborKey] = interfaces.flatMap { i in ips.map { NeighborKey(interface: i, ip: $0) } }
    static let addresses: [LinkLayerAddress] = [
        .mac(MACAddress("00:01:02:03:04:05")!), .mac(MACAddress("00:01:02:03:04:06")!), .mac(.zero),
        .mac(.broadcast), .absent, .otherLength(4),
    ]
    static let states: [NUDState] = [
        .reachable, .stale, .permanent, .delay, .probe, .failed, .incomplete, .noarp, .none,
    ]
    static let policies: [Policy] = (0..<8).map { i in
        Policy(dualToR: i & 1 != 0, evpn: i & 2 != 0, linkLocalInterfaces: i & 4 != 0 ? [interfaces[0]] : [])
    }

    static func key(_ v: UInt32) -> NeighborKey { keys[Int(v % UInt32(keys.count))] }

    static func neighbor(_ v: UInt32) -> KernelNeighbor {
        KernelNeighbor(
            linkLayerAddress: addresses[Int(v % 6)],
            state: states[Int((v >> 3) % 9)],
            flags: (v >> 7) & 1 == 1 ? [.extLearned] : []
        )
    }

    static func storedEntry(_ v: UInt32, for key: NeighborKey) -> StoredEntry {
        switch v % 4 {
        case 0: return .malformed
        case 1: return .valid(NeighborEntry(mac: .zero, family: key.ip.family))
        default: return .valid(NeighborEntry(mac: MACAddress("00:01:02:03:04:05")!, family: key.ip.family))
        }
    }
}

enum Action: CustomStringConvertible {
    case kernelSet(NeighborKey, KernelNeighbor)
    case kernelDelete(NeighborKey)
    case beginOverrun, reportOverrun
    case dumpChunk(Int)
    case refuseDump
    case acknowledge
    case failBatch(applied: Int)
    case refuseBatch(applied: Int)
    case storeDown(wipe: Bool)
    case storeUpAndFlag
    case storeRead
    case fire(TimerID)
    case policy(Policy)
    case crash(applied: Int)
    case linksChanged

    init(_ v: UInt32) {
        let a = v >> 5
        switch v % 20 {
        case 0...5: self = .kernelSet(Universe.key(a), Universe.neighbor(a >> 5))
        case 6, 7: self = .kernelDelete(Universe.key(a))
        case 8: self = .beginOverrun
        case 9: self = .reportOverrun
        case 10, 11: self = v % 20 == 11 && a % 4 == 0 ? .refuseDump : .dumpChunk(Int(a % 5) + 1)
        case 12, 13: self = .acknowledge
        case 14: self = a & 8 == 0 ? .failBatch(applied: Int(a % 5)) : .refuseBatch(applied: Int(a % 5))
        case 15: self = .storeDown(wipe: a & 1 == 1)
        case 16: self = a & 1 == 0 ? .storeUpAndFlag : .storeRead
        case 17: self = .fire(TimerID.allCases[Int(a % UInt32(TimerID.allCases.count))])
        case 18: self = .policy(Universe.policies[Int(a % 8)])
        default: self = a & 1 == 0 ? .crash(applied: Int(a % 5)) : .linksChanged
        }
    }

    var isCrash: Bool { if case .crash = self { return true } else { return false } }

    var description: String {
        switch self {
        case .kernelSet(let k, let n):
            "kernelSet(\(k), \(n.state), \(n.linkLayerAddress)\(n.flags.isEmpty ? "" : ", ext"))"
        case .kernelDelete(let k): "kernelDelete(\(k))"
        case .beginOverrun: "beginOverrun"
        case .reportOverrun: "reportOverrun"
        case .dumpChunk(let n): "dumpChunk(\(n))"
        case .refuseDump: "refuseDump"
        case .acknowledge: "ack"
        case .failBatch(let p): "failBatch(applied: \(p))"
        case .refuseBatch(let p): "refuseBatch(applied: \(p))"
        case .storeDown(let w): "storeDown(wipe: \(w))"
        case .storeUpAndFlag: "storeUp"
        case .storeRead: "storeRead"
        case .fire(let t): "fire(\(t))"
        case .policy(let p): "policy(dualToR: \(p.dualToR), evpn: \(p.evpn), ll: \(!p.linkLocalInterfaces.isEmpty))"
        case .crash(let p): "crash(applied: \(p))"
        case .linksChanged: "linksChanged"
        }
    }
}

/// A generated run: the world before boot, then the actions.
struct Scenario: CustomStringConvertible {
    var warmStart: Bool
    var policy: Policy
    var kernel: [NeighborKey: KernelNeighbor] = [:]
    var store = StoreSnapshot()
    /// NEIGH_FAILED_TABLE rows left by an earlier instance (IPv6 keys only).
    var failedRows: Set<NeighborKey> = []
    var actions: [Action]

    init(_ values: [UInt32]) {
        let head = values.first ?? 0
        warmStart = head & 1 == 1
        policy = Universe.policies[Int((head >> 1) % 8)]
        let setupCount = min(values.count - min(values.count, 1), Int((head >> 4) % 16))
        for v in values.dropFirst().prefix(setupCount) {
            let key = Universe.key(v >> 2)
            switch v % 4 {
            case 0, 1: kernel[key] = Universe.neighbor(v >> 7)
            case 2:
                store.entries[key] = Universe.storedEntry(v >> 7, for: key)
                if key.ip.family == .ipv6 && (v >> 9) & 1 == 1 { failedRows.insert(key) }
            default:
                if v & 0x80 == 0 {
                    store.entries[key] = .valid(
                        NeighborEntry(mac: MACAddress("00:01:02:03:04:05")!, family: key.ip.family)
                    )
                } else {
                    store.malformedKeys.insert("garbage\(v % 3)")
                }
            }
        }
        actions = values.dropFirst(1 + setupCount).map(Action.init)
    }

    var description: String {
        "warm: \(warmStart), policy: \(policy), kernel: \(kernel.count), store: "
            + "\(store.entries.count)+\(store.malformedKeys.count) malformed, failed rows: \(failedRows.sorted()), "
            + "actions: \(actions)"
    }

    func makeSimulator(
        config: ReconcilerConfig = ReconcilerConfig(batchSize: 4, batchDelayMilliseconds: 5)
    ) -> Simulator {
        var sim = Simulator(config: config)
        sim.warmStart = warmStart
        sim.policy = policy
        sim.kernel = kernel
        sim.store = store
        sim.failedStore = failedRows
        sim.failedExpected = failedRows
        return sim
    }

    /// Boots, performs every action (crashes only if `crashes`), then lets everything finish.
    func run(
        crashes: Bool = true,
        config: ReconcilerConfig = ReconcilerConfig(batchSize: 4, batchDelayMilliseconds: 5)
    ) -> Simulator {
        var sim = makeSimulator(config: config)
        sim.boot()
        for a in actions where crashes || !a.isCrash { sim.perform(a) }
        sim.quiesce()
        return sim
    }
}

extension Simulator {
    mutating func perform(_ a: Action) {
        switch a {
        case .kernelSet(let k, let n): kernelSet(k, n)
        case .kernelDelete(let k): kernelDelete(k)
        case .beginOverrun: beginOverrun()
        case .reportOverrun: reportOverrun()
        case .dumpChunk(let n): dumpChunk(n)
        case .refuseDump: refuseDump()
        case .acknowledge: acknowledge()
        case .failBatch(let p): failBatch(applied: p)
        case .refuseBatch(let p): refuseBatch(applied: p)
        case .storeDown(let w): storeGoesDown(wipe: w)
        case .storeUpAndFlag:
            storeUp = true
            restoreFlag = true
            restoreFlagCheck()
        case .storeRead: completeStoreRead()
        case .fire(let t): fire(t)
        case .policy(let p): changePolicy(p)
        case .crash(let p): crash(appliedPrefix: p)
        case .linksChanged: send(.linksChanged)
        }
    }
}
