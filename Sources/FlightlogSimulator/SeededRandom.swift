/// SplitMix64 (Steele, Lea and Flood, 2014): a seeded generator whose numbers are the same on every platform and
/// Swift version, which the system generator is not; the simulator's output is byte for byte a function of its seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<`bound` (`bound` > 0), by Lemire's multiply-shift, without the standard library's algorithm,
    /// which may change between Swift versions.
    public mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(bound).multipliedFullWidth(by: self.next())).high)
    }

    /// A uniform number in [0, 1).
    public mutating func unit() -> Double {
        Double(self.next() >> 11) * 0x1.0p-53
    }

    /// One element of `elements` (not empty).
    public mutating func pick<T>(_ elements: [T]) -> T {
        elements[self.below(elements.count)]
    }

    /// Seconds to the next event when `perSecond` happen a second on average: the mean gap, jittered uniformly to
    /// 20–180 % (no logarithm, so no libm in the output's arithmetic).
    public mutating func gap(perSecond: Double) -> Double {
        (0.2 + 1.6 * self.unit()) / perSecond
    }
}
