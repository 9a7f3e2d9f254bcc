import Foundation
import Glibc
import StoreObserver

/// A private redis-server on a unix socket in a temp dir, stopped (and the dir removed) on deinit.
final class RedisServer {
    let dir: URL
    let socket: String
    let persistent: Bool
    /// More `redis-server` options, as a redis.conf would give them (`--notify-keyspace-events AKE`).
    let options: [String]
    private var pid: pid_t = 0

    init(persistent: Bool = false, options: [String] = []) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "nsd-redis-\(getpid())-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        socket = dir.appendingPathComponent("redis.sock").path
        self.persistent = persistent
        self.options = options
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: dir)
    }

    func start() throws {
        let argv =
            [
                "redis-server", "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--dir", dir.path,
                "--save", "", "--daemonize", "no", "--logfile", dir.appendingPathComponent("redis.log").path,
            ]
            + (persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]) + options
        pid = try Self.spawn(argv)
        for _ in 0..<500 {
            if let c = try? RedisConnection(endpoint: .unix(path: socket), database: 0, timeoutMilliseconds: 200),
                (try? c.command(["PING"]))?.string == "PONG"
            {
                return
            }
            usleep(10_000)
        }
        throw RedisError(.connect, "redis-server did not start on \(socket)")
    }

    /// posix_spawn + waitpid: Foundation's Process waits through a run loop, which can hang
    /// when a test thread drops the last reference.
    static func spawn(_ argv: [String]) throws -> pid_t {
        var pid: pid_t = 0
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        // Test threads block signals and a child inherits the mask: start it with none blocked.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        var defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let rc = posix_spawnp(&pid, argv[0], nil, &attr, &cArgs, environ)
        guard rc == 0 else { throw RedisError(.connect, "cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// SIGKILL: no shutdown save, no goodbye.
    func kill() { signal(SIGKILL) }

    func stop() { signal(SIGTERM) }

    private func signal(_ sig: Int32) {
        guard pid > 0 else { return }
        Glibc.kill(pid, sig)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
        try? FileManager.default.removeItem(atPath: socket)
    }

    func connect(_ db: Int = 0) throws -> RedisConnection {
        try RedisConnection(endpoint: .unix(path: socket), database: db)
    }
}
