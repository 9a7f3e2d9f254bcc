/// The netlink message type of a neighbor message.
public enum NeighborMessageType: Hashable, Sendable {
    case newNeighbor  // RTM_NEWNEIGH
    case deleteNeighbor  // RTM_DELNEIGH
    case getNeighbor  // RTM_GETNEIGH (kernel app_solicit probes)
    case other(UInt16)
}

/// The NDA_LLADDR attribute as received: absent, a MAC, or something of another length.
public enum LinkLayerAddress: Hashable, Sendable {
    case absent
    case mac(MACAddress)
    /// Present but not 6 bytes long (e.g. an IPIP/GRE tunnel neighbor). Never a crash.
    case otherLength(Int)
}

/// Kernel address families that appear on RTNLGRP_NEIGH.
public enum KernelFamily {
    public static let inet: UInt8 = 2
    public static let inet6: UInt8 = 10
    public static let bridge: UInt8 = 7
}

/// What one RTM_*NEIGH message says, after the ifindex was resolved to a name.
public struct NeighborMessage: Hashable, Sendable {
    public var type: NeighborMessageType
    /// `ndm_family` as the kernel sent it (AF_INET, AF_INET6, AF_BRIDGE, …).
    public var family: UInt8
    public var interface: InterfaceName
    /// The master device (a VRF in EVPN mode), if the link table knows one.
    public var master: InterfaceName?
    /// NDA_DST; nil when absent or not an IP address.
    public var destination: IPAddress?
    public var linkLayerAddress: LinkLayerAddress
    public var state: NUDState
    public var flags: NeighborFlags

    public init(
        type: NeighborMessageType,
        family: UInt8,
        interface: InterfaceName,
        master: InterfaceName? = nil,
        destination: IPAddress?,
        linkLayerAddress: LinkLayerAddress,
        state: NUDState,
        flags: NeighborFlags = []
    ) {
        self.type = type
        self.family = family
        self.interface = interface
        self.master = master
        self.destination = destination
        self.linkLayerAddress = linkLayerAddress
        self.state = state
        self.flags = flags
    }

    /// The message the kernel sends for `neighbor` under `key` (the inverse of `key` and `neighbor`).
    public init(
        _ type: NeighborMessageType,
        _ key: NeighborKey,
        _ neighbor: KernelNeighbor,
        master: InterfaceName? = nil
    ) {
        self.init(
            type: type,
            family: key.ip.family.rawValue,
            interface: key.interface,
            master: master,
            destination: key.ip,
            linkLayerAddress: neighbor.linkLayerAddress,
            state: neighbor.state,
            flags: neighbor.flags
        )
    }

    /// The APPL_DB key, when the message names an IP destination.
    public var key: NeighborKey? { destination.map { NeighborKey(interface: interface, ip: $0) } }

    /// What the kernel holds for this neighbor after a NEWNEIGH.
    public var neighbor: KernelNeighbor {
        KernelNeighbor(linkLayerAddress: linkLayerAddress, state: state, flags: flags)
    }
}

/// The kernel's current view of one neighbor: the content of its latest RTM_NEWNEIGH.
public struct KernelNeighbor: Hashable, Sendable {
    public var linkLayerAddress: LinkLayerAddress
    public var state: NUDState
    public var flags: NeighborFlags

    public init(linkLayerAddress: LinkLayerAddress, state: NUDState, flags: NeighborFlags = []) {
        self.linkLayerAddress = linkLayerAddress
        self.state = state
        self.flags = flags
    }
}
