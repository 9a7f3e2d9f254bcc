import Shell
import StoreObserver
import Testing

/// How a log line reads: metadata printed, data escaped, a stamp on stderr only.
@Suite struct LogLineTests {
    @Test func metadataFollowsTheMessageSortedByKey() {
        #expect(LogLine.body("applied batch 3", metadata: [:]) == "applied batch 3")
        #expect(
            LogLine.body("dump", metadata: ["phase": "steady", "batch": "3"]) == "dump batch=3 phase=steady"
        )
    }

    @Test func aValueWithASpaceOrAQuoteIsQuoted() {
        #expect(
            LogLine.body("m", metadata: ["a": "two words", "b": "say \"x\"", "c": ""])
                == #"m a="two words" b="say \"x\"" c="""#
        )
    }

    /// A key, value or message from outside cannot end the line or forge another.
    @Test func everyPartIsEscaped() {
        let line = LogLine.body("key Eth0\n2026 NOTICE forged", metadata: ["k\r": "v\u{1b}[2J"])
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1b}"))
        #expect(line == #"key Eth0\n2026 NOTICE forged k\r=v\x1b[2J"#)
    }

    @Test func stderrLinesAreStampedWithSONiCsLevelName() {
        #expect(
            LogLine.stamped("x", severity: .warn, seconds: 86_400 + 3_723, milliseconds: 45)
                == "1970-01-02T01:02:03.045Z WARN x\n"
        )
    }
}
