import Foundation
import Model
import Shell
import Testing

/// A metrics textfile that cannot be written is logged when it starts failing and when it works
/// again, never every 5 s (syslog would get ~17,000 lines a day).
@Suite struct MetricsTextfileTests {
    @Test func aFailureIsLoggedOnceAndTheRecoveryOnce() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-metrics-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try? FileManager.default.removeItem(atPath: folder)
        let textfile = MetricsTextfile(path: folder + "/metrics.prom")

        let first = textfile.write("a 1\n")
        #expect(first?.level == .error)
        #expect(first?.message.contains(folder + "/metrics.prom") == true)
        #expect(textfile.write("a 2\n") == nil)
        #expect(textfile.write("a 3\n") == nil)

        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let recovered = textfile.write("a 4\n")
        #expect(recovered?.level == .notice)
        #expect(try String(contentsOfFile: folder + "/metrics.prom", encoding: .utf8) == "a 4\n")
        #expect(textfile.write("a 5\n") == nil)
    }
}
