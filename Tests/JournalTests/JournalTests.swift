import Foundation
import Glibc
import Journal
import Model
import Testing

@testable import Reconciler

@Suite struct JournalTests {
    static func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nsd-journal-\(getpid())-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    static func key(_ i: Int) -> NeighborKey {
        NeighborKey(interface: InterfaceName("Ethernet\(i % 8)")!, ip: IPAddress(ipv4: 0x0A00_0000 | UInt32(i)))
    }
    static func entry(_ i: Int, _ salt: UInt64 = 0) -> NeighborEntry {
        NeighborEntry(mac: MACAddress(rawValue: UInt64(i) ^ salt), family: .ipv4)
    }

    /// A stream of records like the daemon's: store read, dump, then batches written and applied,
    /// some acknowledged only after the next batch was written (two in flight).
    static func records(seed: UInt64, batches: Int) -> [JournalRecord] {
        var rng = seed
        func next() -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(rng >> 33)
        }
        var out: [JournalRecord] = [
            .storeReloaded(
                StoreSnapshot(entries: [key(1): .malformed, key(2): .valid(entry(2))], malformedKeys: ["junk"])
            )
        ]
        out.append(.desiredReplaced((0..<50).map { DesiredEntry(key($0), entry($0)) }))
        var waiting: Batch?
        for b in 1...batches {
            let changes: [Change] = (0..<(1 + next() % 20)).map { _ in
                let i = next() % 200
                switch next() % 3 {
                case 0: return .del(key(i))
                default: return .set(key(i), entry(i, UInt64(next() % 3)))
                }
            }
            let unique = Dictionary(changes.map { ($0.keyText, $0) }, uniquingKeysWith: { $1 }).values.sorted {
                $0.keyText < $1.keyText
            }
            let batch = Batch(id: UInt64(b), changes: b == 1 ? unique + [.delMalformed("junk")] : Array(unique))
            out.append(.batchWritten(batch))
            if let p = waiting {
                out.append(.batchApplied(p))
                waiting = nil
            }
            if next() % 2 == 0 { waiting = batch } else { out.append(.batchApplied(batch)) }
        }
        if let p = waiting { out.append(.batchApplied(p)) }
        return out
    }

    @Test func replayAfterAnyPrefixEqualsTheStateAfterIt() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for seed in UInt64(1)...20 {
            let path = dir.appendingPathComponent("j\(seed).sqlite").path
            let journal = try Journal(path: path)
            var image = JournalImage.empty
            for (i, r) in Self.records(seed: seed, batches: 30).enumerated() {
                try journal.record(r, now: Int64(i))
                image.apply(r)
                if i % 7 == 0 || i < 4 {
                    let reopened = try JournalReader(path: path).load()
                    #expect(reopened == image, "seed \(seed), record \(i)")
                }
            }
            #expect(try journal.load() == image)
            // The daemon's load: the same image without the desired view.
            var withoutDesired = image
            withoutDesired.desired = [:]
            #expect(try journal.load(includingDesired: false) == withoutDesired)
        }
    }

    /// Enough changes that the deltas are folded into the store view several times, over IPv4
    /// and IPv6 keys, malformed entries and malformed keys: every reopen replays exactly.
    @Test func replayAcrossCompactionsEqualsTheStateAfterIt() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        let journal = try Journal(path: path)
        func k(_ i: Int) -> NeighborKey {
            NeighborKey(
                interface: InterfaceName(i % 3 == 0 ? "PortChannel0001" : "Ethernet\(i % 64)")!,
                ip: i % 2 == 0
                    ? IPAddress(ipv4: 0x0A00_0000 | UInt32(i))
                    : IPAddress(ipv6High: 0xFC00_0000_0000_0000 | UInt64(i), low: UInt64(i) << 32 | 1)
            )
        }
        var rng: UInt64 = 7
        func next() -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(rng >> 33)
        }
        var image = JournalImage.empty
        let reload = JournalRecord.storeReloaded(
            StoreSnapshot(
                entries: [k(1): .malformed, k(2): .valid(NeighborEntry(mac: MACAddress(rawValue: 2), family: .ipv4))],
                malformedKeys: ["junk", "Ethernet0:ünïcode", ""]
            )
        )
        try journal.record(reload, now: 0)
        image.apply(reload)
        for b in 1...24 {
            var seen = Set<Int>()
            let changes: [Change] =
                (0..<1500).compactMap { _ in
                    let i = next() % 6000
                    guard seen.insert(i).inserted else { return nil }
                    return next() % 4 == 0
                        ? .del(k(i))
                        : .set(k(i), NeighborEntry(mac: MACAddress(rawValue: UInt64(next())), family: k(i).ip.family))
                } + (b == 3 ? [.delMalformed("junk")] : [])
            let batch = Batch(id: UInt64(b), changes: changes)
            for r in [JournalRecord.batchWritten(batch), .batchApplied(batch)] {
                try journal.record(r, now: Int64(b))
                image.apply(r)
            }
            if b % 5 == 0 { #expect(try JournalReader(path: path).load() == image, "after batch \(b)") }
        }
        let deltas = try Self.query(path, "SELECT count(*) FROM delta")
        #expect(Int(deltas) ?? 99 < 24, "no compaction happened: \(deltas) delta rows")
        #expect(try JournalReader(path: path).load() == image)
    }

    /// A damaged record BLOB is a clear `corrupt` error, never a crash or a half-trusted view.
    @Test func damagedRecordsAreCorruptNotACrash() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        try Journal(path: path).record(
            .desiredReplaced([DesiredEntry(Self.key(1), Self.entry(1)), DesiredEntry(Self.key(2), Self.entry(2))]),
            now: 0
        )
        for damage in ["substr(records, 1, length(records) - 3)", "x'01ff'", "x'09'", "x'0103457468300299'"] {
            try Self.sqlite(path, "UPDATE view SET records = \(damage) WHERE name = 'desired';")
            #expect { try Journal(path: path).load() } throws: { ($0 as? JournalError)?.kind == .corrupt }
        }
    }

    @Test func fileIsPrivateAndAuditIsBounded() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        let j = try Journal(path: path)
        var st = stat()
        stat(path, &st)
        #expect(st.st_mode & 0o777 == 0o600)
        try j.record(.batchApplied(Batch(id: 7, changes: [.set(Self.key(1), Self.entry(1))])), now: 1_700_000_000)
        let meta = try j.metadata()
        #expect(meta["last_batch"] == "7" && meta["last_applied_at"] == "1700000000" && meta["created"] != nil)
    }

    @Test func compactionKeepsTheFileProportionalToNeighbors() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("j.sqlite").path
        let j = try Journal(path: path)
        func size(_ suffix: String) -> Int {
            (try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int) ?? 0
        }
        // The same 1,000 neighbors rewritten over and over: the file must not grow with the events.
        // Measured after a checkpoint, so the WAL's own cycle (it grows until the journal's
        // checkpoint after 4 MiB of records, and is cut back after each) does not blur the figure.
        var early = 0
        var late = 0
        var wal = 0
        for round in 0..<300 {
            let b = Batch(
                id: UInt64(round + 1),
                changes: (0..<1000).map { .set(Self.key($0), Self.entry($0, UInt64(round))) }
            )
            try j.record(.batchWritten(b), now: 0)
            try j.record(.batchApplied(b), now: 0)
            wal = max(wal, size("-wal"))
            if round == 19 || round == 299 {
                try j.checkpoint()
                if round == 19 { early = size("") } else { late = size("") }
            }
        }
        #expect(late <= early * 2, "journal grew from \(early) to \(late) bytes for the same neighbors")
        #expect(wal <= 5 << 20, "WAL reached \(wal) bytes")
        #expect(try j.load().actual.entries.count == 1000)
    }

    @Test func badFilesAreSetAsideAndANewJournalStarts() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // corrupt: not a SQLite file
        let corrupt = dir.appendingPathComponent("corrupt.sqlite").path
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: corrupt))
        #expect { try Journal(path: corrupt) } throws: { ($0 as? JournalError)?.kind == .corrupt }
        // foreign: someone else's database
        let foreign = dir.appendingPathComponent("foreign.sqlite").path
        _ = try Journal(path: dir.appendingPathComponent("tmp.sqlite").path)
        try Self.sqlite(foreign, "CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        #expect { try Journal(path: foreign) } throws: { ($0 as? JournalError)?.kind == .foreign }
        // newer schema
        let newer = dir.appendingPathComponent("newer.sqlite").path
        _ = try Journal(path: newer)
        try Self.sqlite(newer, "PRAGMA user_version = 99;")
        #expect { try Journal(path: newer) } throws: { ($0 as? JournalError)?.kind == .newerSchema }

        for path in [corrupt, foreign, newer] {
            var notes: [String] = []
            let j = Journal.openOrSetAside(path: path, durability: .normal, now: 42, report: { notes.append($0) })
            #expect(j != nil)
            #expect(try j?.load() == JournalImage.empty)
            #expect(FileManager.default.fileExists(atPath: path + ".bad-42"), "\(path) not set aside")
            #expect(notes.contains { $0.contains("set the bad file aside") })
        }
    }

    @Test func readOnlyDirectoryMeansNoJournalAndAClearError() throws {
        let dir = try Self.tempDir()
        defer {
            chmod(dir.path, 0o755)
            try? FileManager.default.removeItem(at: dir)
        }
        chmod(dir.path, 0o555)
        let path = dir.appendingPathComponent("j.sqlite").path
        var notes: [String] = []
        if geteuid() == 0 {
            // root ignores directory permissions; a path under a missing directory fails the same way
            let j = Journal.openOrSetAside(
                path: dir.appendingPathComponent("missing/j.sqlite").path,
                durability: .normal,
                now: 1,
                report: { notes.append($0) }
            )
            #expect(j == nil)
        } else {
            #expect(
                Journal.openOrSetAside(path: path, durability: .normal, now: 1, report: { notes.append($0) }) == nil
            )
        }
        #expect(notes.first?.contains("cannot create") == true, "\(notes)")
    }

    @Test func fullDiskIsAnErrorNotACrash() throws {
        try #require(geteuid() == 0, "a full disk is simulated with a 256 KiB tmpfs mount, which needs root")
        let dir = try Self.tempDir()
        try Self.run(["mount", "-t", "tmpfs", "-o", "size=256k", "nsd-full", dir.path])
        defer {
            _ = try? Self.run(["umount", dir.path])
            try? FileManager.default.removeItem(at: dir)
        }
        let j = try Journal(path: dir.appendingPathComponent("j.sqlite").path)
        let small = Batch(id: 1, changes: (0..<10).map { .set(Self.key($0), Self.entry($0)) })
        try j.record(.batchApplied(small), now: 0)
        let big = Batch(id: 2, changes: (0..<50_000).map { .set(Self.key($0), Self.entry($0, 1)) })
        #expect { try j.record(.batchApplied(big), now: 0) } throws: { ($0 as? JournalError)?.kind == .io }
        // The failed transaction left nothing half-done: the journal still holds batch 1 exactly.
        #expect(
            try j.load().actual
                == StoreSnapshot(
                    valid: Dictionary(uniqueKeysWithValues: (0..<10).map { (Self.key($0), Self.entry($0)) })
                )
        )
    }

    static func run(_ argv: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(argv)")
    }

    static func query(_ path: String, _ sql: String) throws -> String {
        let p = Process()
        let out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sqlite3", path, sql]
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines
        )
    }

    static func sqlite(_ path: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sqlite3", path, sql]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

}
