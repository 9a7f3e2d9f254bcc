import Model
import StoreObserver
import Testing

@testable import Shell

/// The verifying reader's shell side: one read at a time, each result reported under the id it
/// was started for (a newer id replaces it), its time observed.
@Suite struct StoreVerifierTests {
    /// A read that ends when the test says, with the result the test gives.
    final class ScriptedReader: StoreReading {
        let fileDescriptor: Int32 = -1
        var started = 0
        var result: Result<LoadedStore, RedisError>?
        func start(clearingPending: Bool, expected: Int, failedTable: Bool) { started += 1 }
        func take() -> Result<LoadedStore, RedisError>? {
            defer { result = nil }
            return result
        }
    }

    static func context() -> ShellContext { ShellContext(clock: { 0 }, random: { _ in 0 }, log: { _, _ in }) }

    static func events(_ c: ShellContext) -> [Event] {
        var out: [Event] = []
        while let e = c.dequeue() { out.append(e) }
        return out
    }

    static let snapshot = StoreSnapshot(
        valid: [NeighborKey("Ethernet0:10.0.0.1")!: NeighborEntry(mac: MACAddress("00:01:02:03:04:05")!, family: .ipv4)]
    )

    /// The core abandoned the running read (a reload, a lost store) and asks another: the newer
    /// id waits for the running read, whose stale result is dropped; no failure is reported.
    @Test func aNewerReadReplacesTheRunningOne() {
        let c = Self.context()
        let reader = ScriptedReader()
        let verifier = StoreVerifier(context: c, reader: reader)
        verifier.verify(id: 1, expected: 1)
        verifier.verify(id: 2, expected: 1)
        #expect(reader.started == 1)
        #expect(Self.events(c).isEmpty, "the newer read was refused")
        verifier.readEnded()  // the descriptor woke, the read has not ended: nothing
        #expect(Self.events(c).isEmpty)
        reader.result = .success(LoadedStore(snapshot: Self.snapshot, issues: [], milliseconds: 250))
        verifier.readEnded()
        #expect(Self.events(c).isEmpty, "the abandoned read's result was delivered")
        #expect(reader.started == 2, "the newer read did not start")
        reader.result = .success(LoadedStore(snapshot: Self.snapshot, issues: [], milliseconds: 250))
        verifier.readEnded()
        #expect(Self.events(c) == [.storeVerified(id: 2, Self.snapshot)])
        #expect(c.metrics.verifyLatency.total == 1, "the abandoned read's time is not observed")
        #expect(c.metrics.verifyLatency.sum == 0.25)
        // Free again: the next read runs under its own id.
        verifier.verify(id: 3, expected: 1)
        #expect(reader.started == 3)
        reader.result = .failure(RedisError(.io, "timeout"))
        verifier.readEnded()
        #expect(Self.events(c) == [.storeVerifyFailed(id: 3, reason: "redis io: timeout")])
        #expect(c.metrics.redisErrors == 1)
        #expect(c.metrics.verifyLatency.total == 1, "a failed read's time is not observed")
    }
}
