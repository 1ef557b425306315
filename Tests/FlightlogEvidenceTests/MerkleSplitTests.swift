import FlightlogWire
import Testing

@testable import FlightlogEvidence

/// RFC 6962's split point for every size a u64 holds: `k << 1` wraps to 0 at k = 2^63, which made the loop run
/// for ever on sizes above 2^63 (a checkpoint or bundle claims any size).
@Suite("The Merkle split point at the ends of u64")
struct MerkleSplitTests {
    static let cases: [(UInt64, UInt64)] = [
        (2, 1), (3, 2), (4, 2), (5, 4), ((1 << 32) + 1, 1 << 32), (1 << 63, 1 << 62), ((1 << 63) + 1, 1 << 63),
        (UInt64.max, 1 << 63),
    ]

    @Test(arguments: Self.cases)
    func splitIsTheLargestPowerOfTwoBelowTheSize(size: UInt64, split: UInt64) {
        #expect(MerkleTree.split(size) == split)
    }
}
