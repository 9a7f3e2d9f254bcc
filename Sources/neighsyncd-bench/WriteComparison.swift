import Foundation
import Model
import StoreObserver

/// Issue 14's write figures: the same new NEIGH_TABLE keys written, in one run, by
///   (a) the floor — the transaction writer's commands (an HSET of `neigh` and `family` per key,
///       one SADD of the chunk's keys, ⌈keys/128⌉ PUBLISHes) pipelined without MULTI/EXEC;
///   (b) the same commands as one `MULTI … EXEC` per chunk (the pattern, from this file's own
///       protocol writer, independent of the product's);
///   (c) the product's writer (`ProducerStateTable.send`/`collect`), whatever it is on this tree;
///   (d) upstream's pattern: one EVALSHA of upstream's per-key script per neighbor (spec §4: SADD,
///       an HSET per field, PUBLISH if added), each flushed and its reply awaited as upstream's
///       unbuffered table does; and (d') the same calls pipelined per chunk (the server's share).
/// Each beside Redis's server CPU (`INFO cpu`, sys + user, before and after) and `INFO
/// commandstats`; chunks of 1,000 keys with `window` chunks in flight, as the daemon sends batches.
/// (a), (b), (d) and (d') are laid out before the clock starts; (c) formats its changes as it runs.
struct WriteComparison {
    enum Pattern: String, CaseIterable {
        case floor, transaction, product, upstream
        case upstreamPipelined = "upstream-pipelined"

        var label: String {
            switch self {
            case .floor: "(a) floor: HSET/SADD/PUBLISH pipelined"
            case .transaction: "(b) MULTI/EXEC per 1,000-key chunk"
            case .product: "(c) product ProducerStateTable"
            case .upstream: "(d) upstream: EVALSHA per key, awaited"
            case .upstreamPipelined: "(d') upstream: EVALSHA per key, pipelined"
            }
        }
    }

    struct Measurement {
        var wall: Double
        var serverCPU: Double
        /// `INFO commandstats` of the fastest run: command, calls, microseconds. A command run by a
        /// script or EXEC counts both under its own name and in the enclosing evalsha/exec.
        var commands: [(name: String, calls: Int, usec: Int)]
    }

    let socketPath: String
    let keys: [NeighborKey]
    let entries: [NeighborEntry]
    var chunkSize = 1000
    var window = 2
    let names = ProducerStateTableNames.neighTable
    static let keysPerPublish = 128

    /// Upstream's per-key SET script, written from spec §4's description of its effects.
    static let upstreamScript = """
        local added = redis.call('SADD', KEYS[2], ARGV[2])
        for i = 0, #KEYS - 3 do
          redis.call('HSET', KEYS[3 + i], ARGV[3 + i * 2], ARGV[4 + i * 2])
        end
        if added > 0 then
          redis.call('PUBLISH', KEYS[1], ARGV[1])
        end
        """

    /// Best of 3, but one run of the slow upstream pattern (5–10 s).
    static func runs(_ p: Pattern) -> Int { p == .upstream ? 1 : 3 }

    /// Runs `patterns`, each `runs(pattern)` times (best wall and best server CPU kept), and prints
    /// the table. Returns the measurements.
    @discardableResult
    func run(_ patterns: [Pattern], runs: (Pattern) -> Int) throws -> [Pattern: Measurement] {
        let admin = try RESPSocket(path: socketPath)
        let sha = try admin.call(["SCRIPT", "LOAD", Self.upstreamScript]).text ?? ""
        var results: [Pattern: Measurement] = [:]
        for p in patterns {
            for _ in 0..<max(1, runs(p)) {
                let m = try measure(p, admin: admin, sha: sha)
                if var best = results[p] {
                    if m.wall < best.wall { (best.wall, best.commands) = (m.wall, m.commands) }
                    best.serverCPU = min(best.serverCPU, m.serverCPU)
                    results[p] = best
                } else {
                    results[p] = m
                }
            }
        }
        print(
            "writes: \(keys.count) new NEIGH_TABLE keys, chunks of \(chunkSize), \(window) in flight; "
                + "best of the runs; server CPU from INFO cpu"
        )
        let header = "pattern".padding(toLength: 44, withPad: " ", startingAt: 0)
        print("  \(header)  wall s  server CPU s  wall/floor  CPU/floor")
        let floor = results[.floor]
        for p in patterns {
            guard let m = results[p] else { continue }
            let label = p.label.padding(toLength: 44, withPad: " ", startingAt: 0)
            let wallRatio = floor.map { String(format: "%10.2f", m.wall / $0.wall) } ?? "         -"
            let cpuRatio = floor.map { String(format: "%10.2f", m.serverCPU / $0.serverCPU) } ?? "         -"
            print("  \(label)  " + String(format: "%6.3f  %12.3f", m.wall, m.serverCPU) + "  \(wallRatio)  \(cpuRatio)")
        }
        for p in patterns {
            guard let m = results[p] else { continue }
            let stats = m.commands.filter { $0.name != "info" && !$0.name.hasPrefix("config") }.sorted {
                $0.usec > $1.usec
            }
            let text = stats.map { "\($0.name) \($0.calls)× \(String(format: "%.0f", Double($0.usec) / 1000)) ms" }
            print(
                "  \(p.label.prefix(4).trimmingCharacters(in: .whitespaces)) commandstats: "
                    + text.joined(separator: ", ")
            )
        }
        return results
    }

    private func measure(_ p: Pattern, admin: RESPSocket, sha: String) throws -> Measurement {
        let s = try RESPSocket(path: socketPath)
        let requests: Requests
        switch p {
        case .floor, .transaction: requests = chunkRequests(transaction: p == .transaction, on: s)
        case .upstream, .upstreamPipelined: requests = upstreamRequests(sha: sha, pipelined: p != .upstream, on: s)
        case .product: requests = []
        }
        try admin.expect(command: ["FLUSHALL"])
        try admin.expect(command: ["CONFIG", "RESETSTAT"])
        let cpu0 = try serverCPU(admin)
        let start = DispatchTime.now().uptimeNanoseconds
        switch p {
        case .floor, .transaction, .upstreamPipelined: try send(requests, on: s, inFlight: window)
        case .upstream: try send(requests, on: s, inFlight: 1)
        case .product: try writeWithProduct()
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpu = try serverCPU(admin) - cpu0
        let commands = try commandStats(admin)
        try verify(admin, after: p)
        return Measurement(wall: wall, serverCPU: cpu, commands: commands)
    }

    /// A pattern's requests, laid out before the timed run (as `redis-cli --pipe` reads a file), so
    /// that (a), (b) and (d) time Redis and the socket, not the bench's formatting: each request's
    /// bytes and the number of replies it gets.
    typealias Requests = [(bytes: [UInt8], replies: Int)]

    /// (a) and (b): per chunk an HSET per key, one SADD, ⌈keys/128⌉ PUBLISHes, optionally in MULTI/EXEC.
    private func chunkRequests(transaction: Bool, on s: RESPSocket) -> Requests {
        stride(from: 0, to: keys.count, by: chunkSize).map { start in
            let range = start..<min(start + chunkSize, keys.count)
            let texts = range.map { keys[$0].description }
            let publishes = (range.count + Self.keysPerPublish - 1) / Self.keysPerPublish
            if transaction { s.command(["MULTI"]) }
            for (i, k) in zip(range, texts) {
                s.command(6)
                s.argument("HSET")
                s.argument(names.stagingKey(k))
                s.argument("neigh")
                s.argument(entries[i].mac.description)
                s.argument("family")
                s.argument(entries[i].family.description)
            }
            s.command(2 + texts.count)
            s.argument("SADD")
            s.argument(names.keySet)
            for k in texts { s.argument(k) }
            for _ in 0..<publishes { s.command(["PUBLISH", names.channel, ProducerStateTableNames.notification]) }
            if transaction { s.command(["EXEC"]) }
            return (s.take(), range.count + 1 + publishes + (transaction ? 2 : 0))
        }
    }

    /// (d) and (d'): per key one EVALSHA of upstream's script; KEYS: channel, key set, the staging
    /// hash once per field; ARGV: `G`, key, then field, value per field. One request per key, or
    /// per chunk when pipelined.
    private func upstreamRequests(sha: String, pipelined: Bool, on s: RESPSocket) -> Requests {
        let step = pipelined ? chunkSize : 1
        return stride(from: 0, to: keys.count, by: step).map { start in
            let range = start..<min(start + step, keys.count)
            for i in range {
                let k = keys[i].description
                let staging = names.stagingKey(k)
                s.command(13)
                for a in ["EVALSHA", sha, "4", names.channel, names.keySet, staging, staging] { s.argument(a) }
                s.argument(ProducerStateTableNames.notification)
                s.argument(k)
                s.argument("neigh")
                s.argument(entries[i].mac.description)
                s.argument("family")
                s.argument(entries[i].family.description)
            }
            return (s.take(), range.count)
        }
    }

    /// Sends the requests with up to `inFlight` awaiting their replies; 1 awaits each in turn.
    private func send(_ requests: Requests, on s: RESPSocket, inFlight: Int) throws {
        var awaited: [Int] = []
        for r in requests {
            s.append(raw: r.bytes)
            try s.flush()
            awaited.append(r.replies)
            while awaited.count >= inFlight { try s.expect(awaited.removeFirst()) }
        }
        for n in awaited { try s.expect(n) }
    }

    /// (c): the product's writer, batches of `chunkSize` with `window` in flight, as the daemon.
    private func writeWithProduct() throws {
        let connection = try RedisConnection(endpoint: .unix(path: socketPath), database: names.databaseID)
        let writer = ProducerStateTable(connection: connection)
        var sent: [ProducerStateTable.SentBatch] = []
        // What `collect` returns differs between the Lua and the transaction writer; a refused batch
        // shows in `verify` (keys missing), so the same line builds and measures either.
        func collectOldest() throws { _ = try writer.collect(&sent) }
        for start in stride(from: 0, to: keys.count, by: chunkSize) {
            let changes = (start..<min(start + chunkSize, keys.count)).map { Change.set(keys[$0], entries[$0]) }
            sent.append(try writer.send(Batch(id: UInt64(start / chunkSize + 1), changes: changes)))
            while sent.count >= window { try collectOldest() }
        }
        while !sent.isEmpty { try collectOldest() }
    }

    /// Every key is in the key set and its staging hash holds what was written.
    private func verify(_ admin: RESPSocket, after p: Pattern) throws {
        let members = try admin.call(["SCARD", names.keySet])
        guard case .integer(keys.count) = members else {
            throw RESPSocket.Failure(description: "\(p.rawValue): key set holds \(members), not \(keys.count)")
        }
        for i in [0, keys.count / 2, keys.count - 1] where i >= 0 && i < keys.count {
            let staging = names.stagingKey(keys[i].description)
            let got = try admin.call(["HMGET", staging, "neigh", "family"])
            let want = [entries[i].mac.description, entries[i].family.description]
            guard case .array(let values?) = got, values.compactMap(\.text) == want else {
                throw RESPSocket.Failure(description: "\(p.rawValue): \(staging) holds \(got), not \(want)")
            }
        }
    }

    private func serverCPU(_ admin: RESPSocket) throws -> Double {
        let info = try admin.call(["INFO", "cpu"]).text ?? ""
        return ["used_cpu_sys", "used_cpu_user"].reduce(0.0) { sum, field in
            sum + (Self.field(field, in: info).flatMap(Double.init) ?? 0)
        }
    }

    /// `cmdstat_hset:calls=100000,usec=176000,…` lines.
    private func commandStats(_ admin: RESPSocket) throws -> [(name: String, calls: Int, usec: Int)] {
        let info = try admin.call(["INFO", "commandstats"]).text ?? ""
        return info.split(whereSeparator: \.isNewline).compactMap { line in
            guard line.hasPrefix("cmdstat_"), let colon = line.firstIndex(of: ":") else { return nil }
            let name = String(line[line.index(line.startIndex, offsetBy: 8)..<colon])
            let pairs = line[line.index(after: colon)...].split(separator: ",").map { $0.split(separator: "=") }
            func value(_ k: String) -> Int {
                pairs.first { $0.first.map(String.init) == k }?.last.flatMap { Int($0) } ?? 0
            }
            return (name, value("calls"), value("usec"))
        }
    }

    private static func field(_ name: String, in info: String) -> String? {
        info.split(whereSeparator: \.isNewline).first { $0.hasPrefix(name + ":") }.map {
            String($0.dropFirst(name.count + 1))
        }
    }
}

extension RESPSocket {
    /// One command whose reply must not be an error.
    func expect(command args: [String]) throws {
        if let e = try call(args).firstError { throw Failure(description: "\(args[0]): \(e)") }
    }
}
