import FlightlogWire
import Testing

/// Chain classification (PROTOCOL.md §8).
struct ChainLinkTests {
    static let h1 = Bytes32(Array(repeating: 0x11, count: 32))!
    static let h2 = Bytes32(Array(repeating: 0x22, count: 32))!
    static let head = ChainLink.Head(sequence: 5, hash: h1)

    struct Case: Sendable, CustomTestStringConvertible {
        var sequence: UInt64
        var previousHash: Bytes32
        var head: ChainLink.Head?
        var expected: ChainLink
        var testDescription: String { "seq \(sequence) head \(head.map { "\($0.sequence)" } ?? "none") → \(expected)" }
    }

    static let cases: [Case] = [
        Case(sequence: 1, previousHash: .zero, head: nil, expected: .genesis),
        Case(sequence: 1, previousHash: h2, head: nil, expected: .broken),
        // Sequence 0 does not exist (§8). A stored one (an edited database, met by verify) is broken, not a gap of
        // 2^64 − 1 batches and not a trap on `sequence - 1`.
        Case(sequence: 0, previousHash: .zero, head: nil, expected: .broken),
        Case(sequence: 0, previousHash: h2, head: nil, expected: .broken),
        Case(sequence: 0, previousHash: .zero, head: head, expected: .alreadySeen),
        Case(sequence: 2, previousHash: h2, head: nil, expected: .gap(missing: 1...1)),
        Case(sequence: 10, previousHash: .zero, head: nil, expected: .gap(missing: 1...9)),
        Case(sequence: 6, previousHash: h1, head: head, expected: .extends),
        Case(sequence: 6, previousHash: h2, head: head, expected: .broken),
        Case(sequence: 6, previousHash: .zero, head: head, expected: .broken),
        Case(sequence: 7, previousHash: h2, head: head, expected: .gap(missing: 6...6)),
        Case(sequence: 100, previousHash: h1, head: head, expected: .gap(missing: 6...99)),
        Case(sequence: 5, previousHash: h2, head: head, expected: .alreadySeen),
        Case(sequence: 1, previousHash: .zero, head: head, expected: .alreadySeen),
        Case(sequence: .max, previousHash: h1, head: .init(sequence: .max - 1, hash: h1), expected: .extends),
        Case(sequence: .max, previousHash: h1, head: .init(sequence: .max, hash: h1), expected: .alreadySeen),
    ]

    @Test(arguments: cases)
    func classify(_ c: Case) {
        #expect(ChainLink.classify(sequence: c.sequence, previousHash: c.previousHash, head: c.head) == c.expected)
    }

    @Test("a built chain classifies as genesis, then extends")
    func builtChain() throws {
        let first = try Fixtures.batch([Fixtures.event(1)])
        let second = try Fixtures.batch([Fixtures.event(2)], sequence: 2, previousHash: first.hash)
        #expect(ChainLink.classify(sequence: first.sequence, previousHash: first.previousHash, head: nil) == .genesis)
        let head = ChainLink.Head(sequence: first.sequence, hash: first.hash)
        #expect(
            ChainLink.classify(sequence: second.sequence, previousHash: second.previousHash, head: head) == .extends
        )
    }
}
