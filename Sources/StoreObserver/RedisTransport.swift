/// A connection commands are pipelined on: hiredis's (`RedisConnection`), or a test's fake that
/// answers with pipelined replies, error replies, refused transactions or a reset mid-pipeline.
public protocol RedisTransport: AnyObject {
    /// The database the connection selected.
    var database: Int { get }
    /// Set once an I/O error made the connection unusable: its owner replaces it.
    var broken: Bool { get }
    /// Commands sent whose replies have not been read.
    var repliesAwaited: Int { get }
    /// Sends one command and reads its reply (nothing else may be awaited).
    func command(_ args: [String]) throws(RedisError) -> RedisReply
    /// Queues a command; `flush` sends what is queued, `reply` reads the oldest reply awaited.
    func append(_ args: [String]) throws(RedisError)
    func flush() throws(RedisError)
    /// Queues `commands` commands already laid out in the Redis protocol (`RESP`); each gives
    /// one reply.
    func appendProtocol(_ bytes: [UInt8], commands: Int) throws(RedisError)
    func reply() throws(RedisError) -> RedisReply
    /// The socket, for an event loop to poll; -1 when there is none (a fake).
    var fileDescriptor: Int32 { get }
    /// Reads what the socket has without blocking (after poll said it is readable); throws when
    /// the peer closed the connection.
    func readAvailable() throws(RedisError) -> [RedisReply]
}

extension RedisConnection: RedisTransport {}
