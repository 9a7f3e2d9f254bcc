import Model
import Testing

/// Names given as bytes (issue 11 defect 9): never decoded lossily, never merged.
@Suite struct InterfaceNameBytesTests {
    @Test func bytesThatAreNotUTF8OrHoldControlCharactersAreNoName() {
        #expect(InterfaceName(utf8: Array("Ethernet0".utf8))?.rawValue == "Ethernet0")
        #expect(InterfaceName(utf8: Array("eth-\u{E9}".utf8))?.rawValue == "eth-\u{E9}")  // UTF-8, printable
        for bad: [UInt8] in [
            Array("Eth".utf8) + [0xFF], Array("Eth".utf8) + [0xFE], [0xC3],  // not UTF-8
            Array("Eth".utf8) + [0x01], Array("Eth".utf8) + [0x7F],  // C0, DEL
            Array("Eth".utf8) + [0xC2, 0x9B],  // C1 (CSI)
            Array("a:b".utf8), Array("a/b".utf8), Array("a b".utf8), [],
        ] {
            #expect(InterfaceName(utf8: bad) == nil, "\(escapedBytes(bad))")
        }
        // The U+FFFD two such names used to share is itself valid UTF-8, and only itself.
        #expect(InterfaceName(utf8: Array("Eth\u{FFFD}".utf8)) != InterfaceName(utf8: Array("Eth".utf8) + [0xFF]))
    }

    @Test func storedKeyBytesThatAreNotUTF8AreNoKey() {
        let key = Array("Eth".utf8) + [0xFF] + Array(":10.0.0.1".utf8)
        #expect(key.withUnsafeBytes { NeighborKey(canonicalUTF8: $0) } == nil)
        let good = Array("Eth0:10.0.0.1".utf8).withUnsafeBytes { NeighborKey(canonicalUTF8: $0) }
        #expect(good?.description == "Eth0:10.0.0.1")
    }

    @Test func escapingIsPrintableAndLossless() {
        #expect(escapedBytes(Array("Eth".utf8) + [0xFF, 0x0A, 0x1B]) == "Eth\\xff\\x0a\\x1b")
        #expect(escapedBytes(Array("a\\x41".utf8)) != escapedBytes(Array("aA".utf8)))
        #expect(escapedBytes(Array("a\\x41".utf8)) == "a\\\\x41")
        #expect(escapedBytes(Array("Eth\u{E9}".utf8)) == "Eth\\xc3\\xa9")
    }
}
