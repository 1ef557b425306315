/// A small deterministic generator (xorshift), so that a failure can be replayed.
public struct SeededRandom: Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        self.state ^= self.state << 13
        self.state ^= self.state >> 7
        self.state ^= self.state << 17
        return self.state
    }

    public mutating func pick<T>(_ choices: [T]) -> T { choices[Int(self.next() % UInt64(choices.count))] }
}
