import Model

/// The journal's binary record format: one BLOB holds a whole view or a whole batch, so writing
/// a batch is one row and replaying 100,000 neighbors parses no text.
///
/// A record is a tag byte, then its fields:
/// - `set` / a valid entry: key, MAC (6 bytes, network order), family (1 byte)
/// - `del`: key
/// - `malformedEntry` (a store value that is not a usable hash): key
/// - `malformedKey` (a store key that does not parse; `delMalformed` in a batch): length (2 bytes)
///   and the raw text
///
/// - `name`: defines the next interface number: length (1 byte) and the name (1–15 bytes);
///   written before the first key on that interface, and not counted as a record
///
/// A key is the interface number (2 bytes; names are numbered from 0 in the order defined), the
/// family (1 byte), then the address: 4 bytes for IPv4, 16 for IPv6. Every number is big-endian
/// (network order).
enum Records {
    enum Tag: UInt8 {
        case set = 1
        case del = 2
        case malformedEntry = 3
        case malformedKey = 4
        case name = 5
    }

    /// The smallest record (a malformed key with no text: tag and length): a BLOB of `n` bytes
    /// holds at most `n / 3` records, which bounds any count read beside it.
    static let minimumRecordBytes = 3

    struct Writer {
        private(set) var bytes: [UInt8] = []
        private(set) var count = 0
        private var numbers: [InterfaceName: UInt16] = [:]

        init(capacity: Int) { bytes.reserveCapacity(capacity * 24) }

        mutating func set(_ k: NeighborKey, _ e: NeighborEntry) {
            record(.set, k)
            for shift in stride(from: 40, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: e.mac.rawValue >> UInt64(shift)))
            }
            bytes.append(e.family.rawValue)
        }

        mutating func del(_ k: NeighborKey) { record(.del, k) }
        mutating func malformedEntry(_ k: NeighborKey) { record(.malformedEntry, k) }

        mutating func malformedKey(_ raw: String) {
            let text = raw.utf8.prefix(Int(UInt16.max))
            bytes.append(Tag.malformedKey.rawValue)
            bytes.append(UInt8(truncatingIfNeeded: text.count >> 8))
            bytes.append(UInt8(truncatingIfNeeded: text.count))
            bytes.append(contentsOf: text)
            count += 1
        }

        private mutating func record(_ tag: Tag, _ k: NeighborKey) {
            let number = numbers[k.interface] ?? define(k.interface)
            bytes.append(tag.rawValue)
            bytes.append(UInt8(truncatingIfNeeded: number >> 8))
            bytes.append(UInt8(truncatingIfNeeded: number))
            bytes.append(k.ip.family.rawValue)
            if k.ip.family == .ipv6 {
                for shift in stride(from: 56, through: 0, by: -8) {
                    bytes.append(UInt8(truncatingIfNeeded: k.ip.high >> UInt64(shift)))
                }
                for shift in stride(from: 56, through: 0, by: -8) {
                    bytes.append(UInt8(truncatingIfNeeded: k.ip.low >> UInt64(shift)))
                }
            } else {
                for shift in stride(from: 24, through: 0, by: -8) {
                    bytes.append(UInt8(truncatingIfNeeded: k.ip.low >> UInt64(shift)))
                }
            }
            count += 1
        }

        /// A Linux host has far fewer than 65,536 interfaces; names are 1–15 bytes by construction.
        private mutating func define(_ name: InterfaceName) -> UInt16 {
            let number = UInt16(truncatingIfNeeded: numbers.count)
            numbers[name] = number
            bytes.append(Tag.name.rawValue)
            bytes.append(UInt8(truncatingIfNeeded: name.rawValue.utf8.count))
            bytes.append(contentsOf: name.rawValue.utf8)
            return number
        }
    }

    static func encode(_ changes: [Change]) -> Writer {
        var w = Writer(capacity: changes.count)
        for c in changes {
            switch c {
            case .set(let k, let e): w.set(k, e)
            case .del(let k): w.del(k)
            case .delMalformed(let raw): w.malformedKey(raw)
            }
        }
        return w
    }

    static func encode(_ s: StoreSnapshot) -> Writer {
        var w = Writer(capacity: s.entries.count + s.malformedKeys.count)
        for (k, v) in s.entries {
            switch v {
            case .valid(let e): w.set(k, e)
            case .malformed: w.malformedEntry(k)
            }
        }
        for raw in s.malformedKeys { w.malformedKey(raw) }
        return w
    }

    static func encode(_ d: [DesiredEntry]) -> Writer {
        var w = Writer(capacity: d.count)
        for e in d { w.set(e.key, e.entry) }
        return w
    }

    /// One decoded record.
    enum Item {
        case set(NeighborKey, NeighborEntry)
        case del(NeighborKey)
        case malformedEntry(NeighborKey)
        case malformedKey(String)
    }

    struct Damaged: Error {}

    /// Calls `accept` for each record; throws `Damaged` at the first byte that does not fit the
    /// format, or the first record `accept` refuses (one that has no place where it was found).
    /// A damaged blob is never half-trusted: the caller reports the journal corrupt.
    static func forEach(in buf: UnsafeRawBufferPointer, _ accept: (Item) -> Bool) throws(Damaged) {
        var o = 0
        var names: [InterfaceName] = []
        func byte() throws(Damaged) -> UInt8 {
            guard o < buf.count else { throw Damaged() }
            defer { o += 1 }
            return buf[o]
        }
        func word(_ n: Int) throws(Damaged) -> UInt64 {
            guard o + n <= buf.count else { throw Damaged() }
            var v: UInt64 = 0
            for i in o..<(o + n) { v = v << 8 | UInt64(buf[i]) }
            o += n
            return v
        }
        func key() throws(Damaged) -> NeighborKey {
            let number = Int(try word(2))
            guard number < names.count else { throw Damaged() }
            let name = names[number]
            switch AddressFamily(rawValue: try byte()) {
            case .ipv4?: return NeighborKey(interface: name, ip: IPAddress(ipv4: UInt32(try word(4))))
            case .ipv6?:
                let high = try word(8)
                return NeighborKey(interface: name, ip: IPAddress(ipv6High: high, low: try word(8)))
            case nil: throw Damaged()
            }
        }
        while o < buf.count {
            switch Tag(rawValue: try byte()) {
            case .set?:
                let k = try key()
                let mac = MACAddress(rawValue: try word(6))
                guard let family = AddressFamily(rawValue: try byte()) else { throw Damaged() }
                guard accept(.set(k, NeighborEntry(mac: mac, family: family))) else { throw Damaged() }
            case .del?: guard accept(.del(try key())) else { throw Damaged() }
            case .malformedEntry?: guard accept(.malformedEntry(try key())) else { throw Damaged() }
            case .malformedKey?:
                let n = Int(try word(2))
                guard o + n <= buf.count else { throw Damaged() }
                // Strict: a lossy decoding could turn two different keys into one.
                guard let text = String(validating: UnsafeRawBufferPointer(rebasing: buf[o..<(o + n)]), as: UTF8.self),
                    accept(.malformedKey(text))
                else { throw Damaged() }
                o += n
            case .name?:
                let n = Int(try byte())
                guard o + n <= buf.count,
                    let name = InterfaceName(utf8: UnsafeRawBufferPointer(rebasing: buf[o..<(o + n)]))
                else { throw Damaged() }
                names.append(name)
                o += n
            case nil: throw Damaged()
            }
        }
    }
}
