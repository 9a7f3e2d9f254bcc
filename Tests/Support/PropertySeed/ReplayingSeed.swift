import Foundation
import PropertyBased
import Testing

/// The case `NEIGHSYNCD_PROPERTY_SEED` names (a seed a failure printed), instead of `cases`
/// random ones. The library then also reports a replay that passes, so one that no longer fails
/// is not mistaken for a fix.
public let replayingSeed: any TestTrait = {
    guard let text = ProcessInfo.processInfo.environment["NEIGHSYNCD_PROPERTY_SEED"] else { return .enabled(if: true) }
    // The seed is the generator's four 64-bit words, in memory order, in base64 (Xoshiro.currentSeed).
    guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: CharacterSet(charactersIn: "(\" )"))),
        bytes.count == 32
    else { preconditionFailure("NEIGHSYNCD_PROPERTY_SEED=\(text) is not a seed a property printed") }
    let words = (0..<4).map { i in bytes[(i * 8)..<(i * 8 + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
    return .fixedSeed(words[0], words[1], words[2], words[3])
}()
