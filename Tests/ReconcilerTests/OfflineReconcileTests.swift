import Foundation
import Model
import Testing

@testable import Reconciler

/// `neighsyncd reconcile` on a kernel table captured from a real namespace
/// (Fixtures/make-kernel-sample.sh) and hand-made SONiC dumps.
@Suite struct OfflineReconcileTests {
    static func fixture(_ name: String) throws -> (data: Data, name: String) {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
        return (try Data(contentsOf: url), name)
    }

    static func reconcile(
        kernel: String = "kernel-sample.json",
        store: String = "store-sample.json",
        config: String? = nil
    ) throws -> OfflineReconcile {
        try OfflineReconcile(kernel: fixture(kernel), store: fixture(store), configDB: config.map { try fixture($0) })
    }

    static func summary(_ r: OfflineReconcile) -> (sets: [String: String], dels: [String]) {
        var sets: [String: String] = [:]
        var dels: [String] = []
        for c in r.plan.changes {
            if case .set(let k, let e) = c {
                sets[k.description] = "\(e.mac) \(e.family)"
            } else {
                dels.append(c.keyText)
            }
        }
        return (sets, dels.sorted())
    }

    @Test func defaultPolicy() throws {
        let r = try Self.reconcile()
        let (sets, dels) = Self.summary(r)
        #expect(
            sets == [
                "eth0:10.250.0.1": "52:54:00:12:34:56 IPv4",  // pending DEL in the store: set again
                "Ethernet4:10.0.0.7": "00:01:02:03:04:09 IPv4",  // stored family was wrong
                "Ethernet0:10.0.0.3": "00:01:02:03:04:07 IPv4",  // stored MAC was garbage
                "Ethernet4:10.0.0.8": "00:01:02:03:04:0a IPv4",  // stored family missing
                "Ethernet0:2000::2": "00:01:02:03:04:06 IPv6",  // MAC changed
            ]
        )
        #expect(dels == ["Ethernet4:10.0.0.4", "Ethernet4:10.0.0.5", "Ethernet8:10.0.0.99", "garbage"])
        #expect(r.plan.unchanged == 6)
        // Malformed store entries are repairs the plan makes, not skipped entries.
        #expect(r.issues.isEmpty)
        #expect(
            r.repairs.map(\.item).sorted() == [
                "Ethernet0:10.0.0.3", "Ethernet4:10.0.0.7", "Ethernet4:10.0.0.8", "garbage",
            ]
        )
        #expect(r.repairs.allSatisfy { $0.source == "store-sample.json" && $0.isRepaired })
    }

    @Test func linkLocalEnabledPublishesFe80() throws {
        let (sets, dels) = Self.summary(try Self.reconcile(config: "config-db-linklocal.json"))
        #expect(sets["Ethernet0:fe80::2e0:ecff:fe3b:d6ac"] == "00:e0:ec:3b:d6:ac IPv6")
        #expect(sets.count == 6)
        #expect(dels.count == 4)
    }

    @Test func dualToR() throws {
        let (sets, dels) = Self.summary(try Self.reconcile(config: "config-db-dualtor.json"))
        #expect(sets["Ethernet4:10.0.0.5"] == "00:00:00:00:00:00 IPv4")  // FAILED → zero MAC (rule 10)
        #expect(sets["Ethernet4:10.0.0.6"] == "00:00:00:00:00:00 IPv4")  // INCOMPLETE → zero MAC
        #expect(sets.count == 7)
        #expect(dels == ["Ethernet0:169.254.0.1", "Ethernet4:10.0.0.4", "Ethernet8:10.0.0.99", "garbage"])  // rule 5
    }

    @Test func evpn() throws {
        let (sets, dels) = Self.summary(try Self.reconcile(config: "config-db-evpn.json"))
        #expect(Set(sets.keys) == ["eth0:10.250.0.1", "Ethernet0:10.0.0.3", "Ethernet0:2000::2"])
        // PROBE is ignored in EVPN mode (rule 8), NOARP without ext-learned is a DEL (rule 12).
        #expect(
            dels == [
                "Ethernet4:10.0.0.4", "Ethernet4:10.0.0.5", "Ethernet4:10.0.0.7", "Ethernet4:10.0.0.8",
                "Ethernet8:10.0.0.99", "garbage",
            ]
        )
    }

    @Test func handMadeKernelFileReportsBadEntriesAndKeepsTheRest() throws {
        let r = try Self.reconcile(kernel: "kernel-handmade.json", store: "store-empty.json")
        let (sets, dels) = Self.summary(r)
        #expect(
            sets == [
                "7:10.0.1.3": "00:aa:bb:cc:dd:ee IPv4",  // numeric interface name
                "PortChannel0002:10.0.1.4": "00:aa:bb:cc:dd:ef IPv4",  // MAC lower-cased
                "Ethernet8:10.0.1.5": "00:aa:bb:cc:dd:f1 IPv4",  // NUD_NONE is published
            ]
        )
        #expect(dels.isEmpty)
        #expect(r.issues.count == 4)
        #expect(r.issues.allSatisfy { $0.source == "kernel-handmade.json" && $0.item.hasPrefix("entry ") })
        #expect(r.issues.contains { $0.reason.contains("dst") })
        #expect(r.issues.contains { $0.reason.contains("SLEEPY") })
    }

    @Test func reconcilingTheResultGivesAnEmptyPlan() throws {
        let r = try Self.reconcile()
        var store = NeighTableContent(
            appDB: try RedisDump.parse(Self.fixture("store-sample.json").data, source: "s").values
        ).snapshot(source: "s").snapshot
        for b in r.plan.batches(maxSize: 3) { store.apply(b) }
        let k = try IPNeighJSON.parse(Self.fixture("kernel-sample.json").data, source: "k")
        var desired: [NeighborKey: NeighborEntry] = [:]
        for (key, n) in k.table { if let e = desiredEntry(for: key, n, policy: Policy()) { desired[key] = e } }
        #expect(diff(desired: desired, actual: store).isEmpty)
    }

    @Test func wholeFileErrorsNameTheFile() throws {
        #expect(throws: SnapshotFormatError.self) {
            try OfflineReconcile(kernel: (Data("{".utf8), "k.json"), store: (Data("{}".utf8), "s.json"), configDB: nil)
        }
        do {
            _ = try OfflineReconcile(
                kernel: (Data("[]".utf8), "k.json"),
                store: (Data("[]".utf8), "s.json"),
                configDB: nil
            )
            Issue.record("an array is not a sonic-db-dump")
        } catch {
            #expect(error.source == "s.json")
        }
    }

    @Test func formats() throws {
        let r = try Self.reconcile()
        let skipped = SnapshotIssue(source: "k.json", item: "entry 2 {…}", reason: "no dst", position: 2)
        let doubt = SnapshotIssue(source: "c.json", item: "INTERFACE|Ethernet0", reason: "unrecognised")
        let json = PlanFormat.json.render(
            r.plan.sorted,
            unchanged: r.plan.unchanged,
            issues: [skipped] + r.repairs,
            warnings: [doubt]
        )
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(parsed["version"] as? Int == 1)
        #expect(parsed["unchanged"] as? Int == 6)
        let set = try #require(parsed["set"] as? [String: [String: String]])
        #expect(set["Ethernet0:2000::2"] == ["neigh": "00:01:02:03:04:06", "family": "IPv6"])
        #expect(
            parsed["del"] as? [String] == [
                "Ethernet4:10.0.0.4", "Ethernet4:10.0.0.5", "Ethernet8:10.0.0.99", "garbage",
            ]
        )
        let issues = try #require(parsed["issues"] as? [[String: Any]])
        #expect(issues.count == 6)
        #expect(issues.first?["entry"] as? Int == 2)
        #expect(issues.first?["effect"] as? String == "skipped")
        let garbage = issues.first { $0["key"] as? String == "garbage" }
        #expect(garbage?["file"] as? String == "store-sample.json")
        #expect(garbage?["effect"] as? String == "repaired")
        #expect((garbage?["reason"] as? String)?.hasPrefix("key is not <ifname>:<inet_ntop ip>") == true)
        #expect(issues.last?["key"] as? String == "INTERFACE|Ethernet0")
        #expect(issues.last?["effect"] as? String == "warning")

        let text = PlanFormat.text.render(r.plan.sorted, unchanged: r.plan.unchanged)
        #expect(text.hasPrefix("5 set, 4 del, 6 unchanged\n"))
        #expect(text.contains("SET  Ethernet0:2000::2"))

        let redis = PlanFormat.redis.render(r.plan.sorted, unchanged: r.plan.unchanged).split(separator: "\n")
        #expect(redis.count == 9)
        #expect(redis.allSatisfy { $0.hasPrefix("EVAL \"") })
        // The writer's script, one change per call (its effects: RedisPlanFormatTests).
        let script = PlanFormat.redisCLILine([ProducerStateTableScript.text])
        let header = " 0 NEIGH_TABLE_CHANNEL@0 NEIGH_TABLE_KEY_SET NEIGH_TABLE_DEL_SET _NEIGH_TABLE: G 2 neigh family "
        #expect(redis.contains { $0 == "EVAL " + script + header + "S Ethernet0:2000::2 00:01:02:03:04:06 IPv6" })
        #expect(redis.contains { $0 == "EVAL " + script + header + "D garbage" })
    }
}

/// Issue 11, defect 8: input of the wrong shape was read as something else and published.
@Suite struct InputShapeTests {
    static let good =
        #"{"dst": "10.0.0.9", "dev": "Ethernet0", "lladdr": "00:01:02:03:04:09", "state": ["REACHABLE"]}"#

    static func reconcile(
        kernel: String = "[]",
        store: String = "{}",
        config: String? = nil
    ) throws
        -> OfflineReconcile
    {
        try OfflineReconcile(
            kernel: (Data(kernel.utf8), "k.json"),
            store: (Data(store.utf8), "s.json"),
            configDB: config.map { (Data($0.utf8), "c.json") }
        )
    }

    @Test(arguments: [
        #""state": "FAILED""#, #""state": [32]"#, #""state": {}"#, #""state": null"#, #""state": ["REACHABLE", null]"#,
        #""dst": "10.0.0.1\u0000evil""#, #""dst": 167772161"#, #""dev": ["Ethernet0"]"#, #""lladdr": 5"#,
        #""lladdr": "00:01:02:03:04:05\n""#,
    ])
    func aKernelEntryOfTheWrongShapeIsBadInputAndSkipped(_ field: String) throws {
        let entry =
            #"{"dst": "10.0.0.1", "dev": "Ethernet0", "lladdr": "00:01:02:03:04:05", "state": ["REACHABLE"], "#
            + field + "}"
        let r = try Self.reconcile(kernel: "[\(Self.good),\n \(entry)]")
        #expect(r.issues.count == 1)
        #expect(r.issues.first?.source == "k.json")
        #expect(r.issues.first?.item.hasPrefix("entry 1 {") == true)
        #expect(OfflineReconcileTests.summary(r).sets.keys.sorted() == ["Ethernet0:10.0.0.9"])
    }

    @Test(arguments: [
        ("42", "a number"), ("null", "null"), ("\"x\"", "a string"), ("{}", "an object"), ("true", "a boolean"),
    ])
    func aKernelFileThatIsNotAnArraySaysWhatItFound(_ top: String, _ found: String) throws {
        #expect { try Self.reconcile(kernel: top) } throws: { error in
            guard let e = error as? SnapshotFormatError else { return false }
            return e.source == "k.json" && e.reason.hasPrefix("expected a JSON array of neighbor entries")
                && e.reason.hasSuffix("found " + found)
        }
    }

    @Test(arguments: [
        #"{"NEIGH_TABLE:Ethernet0:10.0.0.1": {"type": "hash", "value": {"neigh": 5, "family": "IPv4"}}}"#,
        #"{"NEIGH_TABLE:Ethernet0:10.0.0.1": {"type": "hash", "value": ["neigh"]}}"#,
        #"{"NEIGH_TABLE:Ethernet0:10.0.0.1": {"type": 1, "value": {}}}"#,
        #"{"NEIGH_TABLE:Ethernet0:10.0.0.1": {"value": {}}}"#,
        #"{"NEIGH_TABLE:Ethernet0:10.0.0.1": ["hash"]}"#,
        #"{"NEIGH_TABLE_KEY_SET": {"type": "set", "value": ["Ethernet0:10.0.0.1", 7]}}"#,
        #"{"NEIGH_TABLE_KEY_SET": {"type": "set", "value": "Ethernet0:10.0.0.1"}}"#,
    ])
    func aStoreItemOfTheWrongShapeIsBadInput(_ store: String) throws {
        let r = try Self.reconcile(store: store)
        #expect(r.issues.contains { $0.source == "s.json" && $0.item.hasPrefix("NEIGH_TABLE") })
    }

    /// `1` and `true` were read as the string "1" and silently meant "disabled".
    @Test(arguments: [("1", "a number"), ("true", "a boolean"), ("null", "null"), (#"["enable"]"#, "an array")])
    func aConfigSettingThatIsNotAStringIsBadInput(_ value: String, _ found: String) throws {
        let config =
            #"{"INTERFACE|Ethernet0": {"type": "hash", "value": {"ipv6_use_link_local_only": "#
            + value + "}}}"
        let r = try Self.reconcile(config: config)
        let expected =
            #"c.json: INTERFACE|Ethernet0: field "ipv6_use_link_local_only" is not a string (found "#
            + found + ")"
        #expect(r.issues.map(\.description) == [expected])
    }

    @Test func anUnrecognisedSettingIsAWarning() throws {
        let config = #"{"INTERFACE|Ethernet0": {"type": "hash", "value": {"ipv6_use_link_local_only": "true"}}}"#
        let r = try Self.reconcile(config: config)
        #expect(r.issues.isEmpty)
        #expect(r.warnings.map(\.item) == ["INTERFACE|Ethernet0"])
    }

    @Test func duplicatesAreWarnedAboutAndTheLastOneIsUsed() throws {
        let kernel = #"""
            [{"dst": "10.0.0.1", "dev": "Ethernet0", "lladdr": "00:01:02:03:04:01", "state": ["REACHABLE"]},
             {"dst": "10.0.0.1", "dev": "Ethernet0", "lladdr": "00:01:02:03:04:02", "state": ["REACHABLE"],
              "lladdr": "00:01:02:03:04:03"}]
            """#
        let store = #"""
            {"NEIGH_TABLE:Ethernet0:10.0.0.2":
                 {"type": "hash", "value": {"neigh": "00:01:02:03:04:05", "family": "IPv4"}},
             "NEIGH_TABLE:Ethernet0:10.0.0.2": {"type": "hash",
                 "value": {"neigh": "00:01:02:03:04:06", "neigh": "00:01:02:03:04:07", "family": "IPv4"}},
             "NEIGH_TABLE_KEY_SET": {"type": "set", "value": ["Ethernet0:10.0.0.3", "Ethernet0:10.0.0.3"]}}
            """#
        let r = try Self.reconcile(kernel: kernel, store: store)
        #expect(r.issues.isEmpty)
        let warnings = r.warnings.map(\.description)
        #expect(warnings.count == 5, "\(warnings)")
        func kernelWarning(_ suffix: String) -> Bool {
            warnings.contains { $0.hasPrefix("k.json: entry 1 ") && $0.hasSuffix(suffix) }
        }
        #expect(kernelWarning("a second entry for Ethernet0:10.0.0.1; it replaces the earlier one"))
        #expect(kernelWarning("\"lladdr\" appears more than once; the last one is used"))
        let twice = "s.json: NEIGH_TABLE:Ethernet0:10.0.0.2:"
        #expect(warnings.contains("\(twice) the key appears more than once; the last one is used"))
        #expect(warnings.contains("\(twice) field \"neigh\" appears more than once; the last one is used"))
        #expect(
            warnings.contains(
                "s.json: NEIGH_TABLE_KEY_SET: set member \"Ethernet0:10.0.0.3\" appears more than once"
            )
        )
        let (sets, dels) = OfflineReconcileTests.summary(r)
        #expect(sets == ["Ethernet0:10.0.0.1": "00:01:02:03:04:03 IPv4"])
        #expect(dels == ["Ethernet0:10.0.0.2"])
    }

    /// Security finding: a `\n` in a stored MAC forged a line; ESC sequences reached the terminal.
    @Test func controlCharactersInInputNeverReachTheOutputRaw() throws {
        let store = #"""
            {"NEIGH_TABLE:Ethernet0:10.0.0.1":
                 {"type": "hash", "value": {"neigh": "00:01\nFORGED: \u001b[2J\u0007", "family": "IPv4"}},
             "NEIGH_TABLE:Eth\u001b[31m0\nFORGED:10.0.0.2":
                 {"type": "hash", "value": {"neigh": "00:01:02:03:04:05", "family": "IPv4"}},
             "NEIGH_TABLE:Ethernet0:10.0.0.3\u0000":
                 {"type": "hash", "value": {"neigh": "00:01:02:03:04:05", "family": "IPv4"}}}
            """#
        let kernel = #"[{"dst": "10.0.0.1", "dev": "Eth\u001b[0m", "state": ["REACHABLE"]}]"#
        let r = try Self.reconcile(kernel: kernel, store: store)
        let text = PlanFormat.text.render(r.plan.sorted, unchanged: r.plan.unchanged)
        let json = PlanFormat.json.render(r.plan.sorted, unchanged: 0, issues: r.issues + r.repairs)
        let lines =
            (r.issues + r.repairs).map(\.description)
            + (text + json).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(r.issues.count == 1)  // the kernel entry, skipped; the three stored ones are repaired
        #expect(r.repairs.count == 3)
        #expect(
            lines.allSatisfy { !$0.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) } }
        )
        #expect(!lines.contains { $0.hasPrefix("FORGED") })
        #expect(text.contains(#"DEL  Eth\x1b[31m0\nFORGED:10.0.0.2  (malformed key)"#))
        let redis = PlanFormat.redis.render([.delMalformed("Eth\u{1B}[2J\u{9B}0\nFORGED:1")], unchanged: 0)
        #expect(redis.hasSuffix(#" G 2 neigh family D "Eth\x1b[2J\xc2\x9b0\nFORGED:1"\#n"#))
        #expect(redis.dropLast().unicodeScalars.allSatisfy { $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value) })
        let jsonDel = PlanFormat.json.render([.delMalformed("Eth\u{1B}[2J\u{9B}0\u{7F}")], unchanged: 0)
        #expect(jsonDel.contains(#""Eth\u001b[2J\u009b0\u007f""#))
        // Invisible characters too, as the text form and stderr write them: a bidi override, a line
        // separator, a zero width (outside the BMP: a surrogate pair, as JSON spells it).
        let jsonInvisible = PlanFormat.json.render([.delMalformed("Eth\u{202E}0\u{2028}\u{E0001}")], unchanged: 0)
        #expect(jsonInvisible.contains(#""Eth\u202e0\u2028\udb40\udc01""#))
    }
}

/// The consumer semantics the store snapshot follows (spec §4).
@Suite struct PendingOperationTests {
    static let k = "Ethernet0:10.0.0.1"
    static let key = NeighborKey(k)!

    func eventual(_ values: [String: RedisValue]) -> StoreSnapshot {
        NeighTableContent(appDB: values).snapshot(source: "test").snapshot
    }

    @Test func delThenSetBeforeAPopArrivesAsSet() {
        let s = eventual([
            "NEIGH_TABLE:\(Self.k)": .hash(["neigh": "00:00:00:00:00:01", "family": "IPv4"]),
            "NEIGH_TABLE_KEY_SET": .set([Self.k]), "NEIGH_TABLE_DEL_SET": .set([Self.k]),
            "_NEIGH_TABLE:\(Self.k)": .hash(["neigh": "00:00:00:00:00:02", "family": "IPv4"]),
        ])
        #expect(s.entries[Self.key] == .valid(NeighborEntry(mac: MACAddress("00:00:00:00:00:02")!, family: .ipv4)))
    }

    @Test func setThenDelBeforeAPopArrivesAsDel() {
        let s = eventual([
            "NEIGH_TABLE:\(Self.k)": .hash(["neigh": "00:00:00:00:00:01", "family": "IPv4"]),
            "NEIGH_TABLE_KEY_SET": .set([Self.k]), "NEIGH_TABLE_DEL_SET": .set([Self.k]),
        ])
        #expect(s.entries[Self.key] == nil)
    }

    @Test func pendingSetOverlaysTheConsumedEntry() {
        let s = eventual([
            "NEIGH_TABLE:\(Self.k)": .hash(["neigh": "00:00:00:00:00:01", "family": "IPv4"]),
            "NEIGH_TABLE_KEY_SET": .set([Self.k]),
            "_NEIGH_TABLE:\(Self.k)": .hash(["neigh": "00:00:00:00:00:03"]),
        ])
        #expect(s.entries[Self.key] == .valid(NeighborEntry(mac: MACAddress("00:00:00:00:00:03")!, family: .ipv4)))
    }

    @Test func wrongTypesAndNonCanonicalKeysAreRepaired() {
        let s = eventual([
            "NEIGH_TABLE:\(Self.k)": .set(["x"]),
            "NEIGH_TABLE:Ethernet0:2000:0::2": .hash(["neigh": "00:00:00:00:00:01", "family": "IPv6"]),
            "NEIGH_TABLE:Ethernet0:10.0.0.9": .hash([:]),
        ])
        #expect(s.entries[Self.key] == .malformed)
        #expect(s.malformedKeys == ["Ethernet0:2000:0::2"])
        #expect(s.entries.count == 1)  // the empty hash is skipped, as upstream does
    }
}

@Suite struct RedisDumpRenderTests {
    /// `snapshot(dump:)` reads in two passes and drops each consumed hash once judged; it must give
    /// what reading the whole dump and overlaying the pending operations gives, in any key order
    /// (besides the issue of a replaced copy of a key given twice).
    @Test func readingADumpInTwoPassesEqualsTheWholeOverlay() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/store-sample.json", withExtension: nil))
        let asWritten = try Data(contentsOf: url)
        let pendingFirst = Data(
            #"""
            {"NEIGH_TABLE_KEY_SET":
                 {"type": "set", "value": ["Ethernet0:10.0.0.1", "Ethernet0:10.0.0.2", "Ethernet0:10.0.0.3"]},
             "NEIGH_TABLE_DEL_SET": {"type": "set", "value": ["Ethernet0:10.0.0.2"]},
             "_NEIGH_TABLE:Ethernet0:10.0.0.1": {"type": "hash", "value": {"neigh": "00:00:00:00:00:11"}},
             "_NEIGH_TABLE:Ethernet0:10.0.0.3":
                 {"type": "hash", "value": {"neigh": "00:00:00:00:00:33", "family": "IPv4"}},
             "NEIGH_TABLE:Ethernet0:10.0.0.1":
                 {"type": "hash", "value": {"neigh": "00:00:00:00:00:01", "family": "IPv4"}},
             "NEIGH_TABLE:Ethernet0:10.0.0.2":
                 {"type": "hash", "value": {"neigh": "00:00:00:00:00:02", "family": "IPv4"}},
             "NEIGH_TABLE:Ethernet0:10.0.0.4":
                 {"type": "hash", "value": {"neigh": "00:00:00:00:00:04", "family": "IPv6"}},
             "NEIGH_TABLE:Ethernet0:10.0.0.4":
                 {"type": "hash", "value": {"neigh": "00:00:00:00:00:04", "family": "IPv4"}},
             "NEIGH_TABLE:Ethernet0:10.0.0.5": {"type": "hash", "value": {}}}
            """#.utf8
        )
        for dump in [asWritten, pendingFirst, RedisDump.render(try RedisDump.parse(asWritten, source: "s").values)] {
            let whole = try RedisDump.parse(dump, source: "s")
            let overlay = NeighTableContent(appDB: whole.values).snapshot(source: "s")
            let twoPasses = try NeighTableContent.snapshot(dump: dump, source: "s")
            #expect(twoPasses.snapshot == overlay.snapshot)
            #expect(Set(twoPasses.warnings) == Set(whole.warnings))
            // Each copy of a key given twice is judged as it is read: the replaced copy's issue stays.
            let extra = Set(twoPasses.issues).subtracting(whole.issues + overlay.issues)
            #expect(Set(whole.issues + overlay.issues).isSubset(of: Set(twoPasses.issues)))
            #expect(extra.allSatisfy { e in twoPasses.warnings.contains { $0.item.hasSuffix(e.item) } })
        }
        let s = try NeighTableContent.snapshot(dump: pendingFirst, source: "s").snapshot
        func ipv4(_ mac: String) -> StoredEntry? {
            MACAddress(mac).map { .valid(NeighborEntry(mac: $0, family: .ipv4)) }
        }
        #expect(s.entries[NeighborKey("Ethernet0:10.0.0.1")!] == ipv4("00:00:00:00:00:11"))
        #expect(s.entries[NeighborKey("Ethernet0:10.0.0.2")!] == nil)
        #expect(s.entries[NeighborKey("Ethernet0:10.0.0.3")!] == ipv4("00:00:00:00:00:33"))
        #expect(s.entries[NeighborKey("Ethernet0:10.0.0.4")!] == ipv4("00:00:00:00:00:04"))
        #expect(s.entries.count == 3)
    }

    /// What `store-dump` prints reads back as the same table (and so as the same snapshot).
    @Test func renderedContentParsesBackIdentically() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/store-sample.json", withExtension: nil))
        let values = try RedisDump.parse(try Data(contentsOf: url), source: "s").values
        let content = NeighTableContent(appDB: values)
        let again = NeighTableContent(
            appDB: try RedisDump.parse(RedisDump.render(content.redisValues()), source: "r").values
        )
        #expect(again.snapshot(source: "r").snapshot == content.snapshot(source: "s").snapshot)
        #expect(
            again.keySet == content.keySet && again.delSet == content.delSet && again.table.count == content.table.count
        )
    }
}
