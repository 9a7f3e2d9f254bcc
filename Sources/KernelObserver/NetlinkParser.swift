import CNetlink
import Model

/// Why a netlink message could not be parsed. Carries the byte offset in the datagram.
public enum NetlinkParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes than a nlmsghdr remain, or its length runs past the datagram.
    case badMessageLength(offset: Int, length: Int, available: Int)
    /// The message is shorter than its fixed header (ndmsg / ifinfomsg).
    case truncatedBody(type: UInt16, offset: Int, length: Int)
    /// An rtattr whose length is too small or runs past its message.
    case badAttribute(messageType: UInt16, offset: Int, length: Int)
    /// NDA_DST whose length does not fit the family.
    case badDestination(family: UInt8, length: Int, offset: Int)

    public var description: String {
        switch self {
        case .badMessageLength(let o, let l, let a): "netlink message at byte \(o): length \(l) with \(a) bytes left"
        case .truncatedBody(let t, let o, let l):
            "netlink message type \(t) at byte \(o): \(l) bytes is shorter than its header"
        case .badAttribute(let t, let o, let l): "netlink message type \(t): attribute at byte \(o) has bad length \(l)"
        case .badDestination(let f, let l, let o):
            "neighbor message at byte \(o): NDA_DST of \(l) bytes for family \(f)"
        }
    }
}

/// One RTM_*NEIGH message as it sits in the buffer: no name resolved, nothing allocated.
public struct RawNeighbor: Hashable, Sendable {
    public var type: NeighborMessageType
    public var family: UInt8
    public var ifindex: Int32
    public var state: NUDState
    public var flags: NeighborFlags
    public var destination: IPAddress?
    public var linkLayerAddress: LinkLayerAddress

    public init(
        type: NeighborMessageType,
        family: UInt8,
        ifindex: Int32,
        state: NUDState,
        flags: NeighborFlags,
        destination: IPAddress?,
        linkLayerAddress: LinkLayerAddress
    ) {
        self.type = type
        self.family = family
        self.ifindex = ifindex
        self.state = state
        self.flags = flags
        self.destination = destination
        self.linkLayerAddress = linkLayerAddress
    }
}

/// One RTM_NEWLINK / RTM_DELLINK.
public struct LinkMessage: Hashable, Sendable {
    public var deleted: Bool
    public var index: Int32
    /// IFLA_IFNAME, when it is an acceptable name.
    public var name: InterfaceName?
    /// IFLA_IFNAME's bytes when they are not (never decoded lossily: see `InterfaceName`).
    public var refusedName: [UInt8]?
    public var master: Int32?
}

/// What one netlink message is, after parsing.
public enum NetlinkItem: Hashable, Sendable {
    case neighbor(RawNeighbor, header: MessageHeader)
    case link(LinkMessage, header: MessageHeader)
    /// NLMSG_DONE of a dump; `interrupted` when NLM_F_DUMP_INTR was set on it.
    case done(header: MessageHeader)
    /// NLMSG_ERROR; errno 0 is an acknowledgement.
    case error(errno: Int32, header: MessageHeader)
    /// A family or type this daemon does not handle (AF_BRIDGE FDB entries, routes, …).
    case skipped(type: UInt16)
    case malformed(NetlinkParseError)
}

/// The parts of a nlmsghdr the observer needs.
public struct MessageHeader: Hashable, Sendable {
    public var type: UInt16
    public var flags: UInt16
    public var sequence: UInt32
    public var dumpInterrupted: Bool { flags & UInt16(NLM_F_DUMP_INTR) != 0 }
}

/// Walks the netlink messages in one datagram, in place. A malformed message is reported and,
/// when its length is still sound, skipped; a broken length ends the walk (nothing after it
/// can be located).
public enum NetlinkParser {
    @inline(__always)
    static func align(_ n: Int) -> Int { (n + 3) & ~3 }

    public static func forEachItem(in buf: UnsafeRawBufferPointer, _ body: (NetlinkItem) -> Void) {
        var offset = 0
        let hdr = Int(nsd_NLMSG_HDRLEN)
        while offset < buf.count {
            let available = buf.count - offset
            guard available >= hdr else {
                body(.malformed(.badMessageLength(offset: offset, length: available, available: available)))
                return
            }
            let length = Int(buf.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard length >= hdr, length <= available else {
                body(.malformed(.badMessageLength(offset: offset, length: length, available: available)))
                return
            }
            let header = MessageHeader(
                type: buf.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self),
                flags: buf.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self),
                sequence: buf.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            )
            let message = UnsafeRawBufferPointer(rebasing: buf[(offset + hdr)..<(offset + length)])
            body(item(header, message, at: offset))
            offset += align(length)
        }
    }

    @inline(__always)
    static func item(_ h: MessageHeader, _ m: UnsafeRawBufferPointer, at offset: Int) -> NetlinkItem {
        switch Int32(h.type) {
        case Int32(RTM_NEWNEIGH), Int32(RTM_DELNEIGH), Int32(RTM_GETNEIGH):
            return neighbor(h, m, at: offset)
        case Int32(RTM_NEWLINK), Int32(RTM_DELLINK):
            return link(h, m, at: offset)
        case NLMSG_DONE:
            return .done(header: h)
        case NLMSG_ERROR:
            guard m.count >= 4 else { return .malformed(.truncatedBody(type: h.type, offset: offset, length: m.count)) }
            // The kernel sends -errno; Int32.min has no negation, and the bytes are not ours to trust.
            return .error(errno: 0 &- m.loadUnaligned(as: Int32.self), header: h)
        default:
            return .skipped(type: h.type)
        }
    }

    static func neighbor(_ h: MessageHeader, _ m: UnsafeRawBufferPointer, at offset: Int) -> NetlinkItem {
        let fixed = Int(nsd_NDMSG_LEN)
        guard m.count >= fixed else { return .malformed(.truncatedBody(type: h.type, offset: offset, length: m.count)) }
        let family = m[0]
        // AF_BRIDGE FDB entries and other families are dropped before their attributes are read.
        guard family == KernelFamily.inet || family == KernelFamily.inet6 else { return .skipped(type: h.type) }
        var n = RawNeighbor(
            type: h.type == UInt16(RTM_NEWNEIGH)
                ? .newNeighbor : h.type == UInt16(RTM_DELNEIGH) ? .deleteNeighbor : .getNeighbor,
            family: family,
            ifindex: m.loadUnaligned(fromByteOffset: 4, as: Int32.self),
            state: NUDState(rawValue: m.loadUnaligned(fromByteOffset: 8, as: UInt16.self)),
            flags: NeighborFlags(rawValue: m[10]).intersection([.router, .extLearned]),
            destination: nil,
            linkLayerAddress: .absent
        )
        var error: NetlinkParseError?
        var badDestination: NetlinkParseError?
        forEachAttribute(m, from: align(fixed), messageType: h.type, at: offset, error: &error) { type, a, aOffset in
            switch Int32(type) {
            case Int32(NDA_DST):
                switch (family, a.count) {
                case (KernelFamily.inet, 4):
                    n.destination = IPAddress(ipv4: UInt32(bigEndian: a.loadUnaligned(as: UInt32.self)))
                case (KernelFamily.inet6, 16):
                    n.destination = IPAddress(
                        ipv6High: UInt64(bigEndian: a.loadUnaligned(as: UInt64.self)),
                        low: UInt64(bigEndian: a.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                    )
                default:
                    badDestination = .badDestination(family: family, length: a.count, offset: aOffset)
                }
            case Int32(NDA_LLADDR):
                if a.count == 6 {
                    let hi = UInt64(UInt16(bigEndian: a.loadUnaligned(as: UInt16.self)))
                    let lo = UInt64(UInt32(bigEndian: a.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
                    n.linkLayerAddress = .mac(MACAddress(rawValue: hi << 32 | lo))
                } else {
                    n.linkLayerAddress = .otherLength(a.count)
                }
            default:
                break  // unknown attributes are skipped
            }
        }
        if let e = error ?? badDestination { return .malformed(e) }
        return .neighbor(n, header: h)
    }

    static func link(_ h: MessageHeader, _ m: UnsafeRawBufferPointer, at offset: Int) -> NetlinkItem {
        let fixed = Int(nsd_IFINFOMSG_LEN)
        guard m.count >= fixed else { return .malformed(.truncatedBody(type: h.type, offset: offset, length: m.count)) }
        var l = LinkMessage(
            deleted: h.type == UInt16(RTM_DELLINK),
            index: m.loadUnaligned(fromByteOffset: 4, as: Int32.self),
            name: nil,
            refusedName: nil,
            master: nil
        )
        var error: NetlinkParseError?
        forEachAttribute(m, from: align(fixed), messageType: h.type, at: offset, error: &error) { type, a, _ in
            switch Int32(type) {
            case Int32(IFLA_IFNAME):
                let bytes = a.prefix { $0 != 0 }
                if let name = InterfaceName(utf8: bytes) { l.name = name } else { l.refusedName = Array(bytes) }
            case Int32(IFLA_MASTER):
                if a.count >= 4 { l.master = a.loadUnaligned(as: Int32.self) }
            default:
                break
            }
        }
        if let error { return .malformed(error) }
        return .link(l, header: h)
    }

    @inline(__always)
    static func forEachAttribute(
        _ m: UnsafeRawBufferPointer,
        from start: Int,
        messageType: UInt16,
        at base: Int,
        error: inout NetlinkParseError?,
        _ body: (UInt16, UnsafeRawBufferPointer, Int) -> Void
    ) {
        var o = start
        let hdr = Int(nsd_RTA_HDRLEN)
        while o + hdr <= m.count {
            let len = Int(m.loadUnaligned(fromByteOffset: o, as: UInt16.self))
            guard len >= hdr, o + len <= m.count else {
                error = .badAttribute(messageType: messageType, offset: base + Int(nsd_NLMSG_HDRLEN) + o, length: len)
                return
            }
            // drop NLA_F_NESTED / NET_BYTEORDER
            let type = m.loadUnaligned(fromByteOffset: o + 2, as: UInt16.self) & 0x3FFF
            body(type, UnsafeRawBufferPointer(rebasing: m[(o + hdr)..<(o + len)]), base + Int(nsd_NLMSG_HDRLEN) + o)
            o += align(len)
        }
    }
}
