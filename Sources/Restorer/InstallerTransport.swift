import KernelObserver

/// A failed system call of the restorer: the observer's error type, one for every netlink and
/// socket call, with what an operator needs to act on it.
public typealias RestoreError = KernelObserverError

/// What `KernelInstaller` talks to: the kernel's rtnetlink socket, or a test's fake that loses,
/// repeats, reorders and truncates acknowledgements.
public protocol InstallerTransport: AnyObject {
    /// The receive buffer the kernel granted: bounds how many acks one batch may wait for.
    var receiveBufferBytes: Int { get }
    /// Sends `bytes` as one datagram: the bytes sent, or -errno.
    func send(_ bytes: UnsafeRawBufferPointer) -> Int
    /// One datagram without waiting, as `recv(MSG_TRUNC)` on a non-blocking socket: its whole
    /// length (which may exceed the buffer), or -errno (-EAGAIN when none is queued).
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int
    /// Waits up to `milliseconds` for a datagram: 1 when one is queued, 0 on timeout, or -errno.
    func waitReadable(milliseconds: Int32) -> Int32
}

extension RtnetlinkSocket: InstallerTransport {}
