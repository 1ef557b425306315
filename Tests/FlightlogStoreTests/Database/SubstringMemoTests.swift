import FlightlogTestSupport
import Testing

@testable import FlightlogStore

/// The memo answers what each pattern set's own search answers, whatever order rows and sets come in: patterns
/// that overlap, share prefixes or suffixes, hold `*`, differ in case; sets met for the first time in the middle of a
/// row; rows met again after others.
struct SubstringMemoTests {
    /// A small alphabet, so that patterns overlap and occur often.
    static let alphabet: [UInt8] = Array("abAB-/ *".utf8)

    static func text(_ random: inout SeededRandom, maxLength: Int) -> [UInt8] {
        (0..<Int(random.next() % UInt64(maxLength + 1))).map { _ in random.pick(Self.alphabet) }
    }

    static func set(_ random: inout SeededRandom) -> SubstringSetFunction.PatternSet {
        let count = 1 + Int(random.next() % 4)
        let patterns = (0..<count).map { _ -> [UInt8] in
            var pattern = Self.text(&random, maxLength: 5).filter { $0 != UInt8(ascii: " ") }
            if pattern.isEmpty || random.next() % 8 != 0 { pattern.removeAll { $0 == UInt8(ascii: "*") } }
            return pattern.isEmpty ? Array("a".utf8) : pattern
        }
        return SubstringSetFunction.PatternSet(Array(patterns.joined(separator: [SubstringSetFunction.separator])))
    }

    @Test(arguments: [1 as UInt64, 2, 3, 4])
    func theMemoAnswersAsEachSetDoes(seed: UInt64) {
        var random = SeededRandom(state: 0x2545_F491_4F6C_DD1D &* seed)
        let memo = SubstringMemo(slot: 0)
        var sets: [SubstringSetFunction.PatternSet] = (0..<20).map { _ in Self.set(&random) }
        let rows = (0..<60).map { _ in Self.text(&random, maxLength: 40) }
        var checked = 0
        var found = 0
        for step in 0..<3_000 {
            // Rows mostly in order, sometimes one met before; now and then a new set.
            let row = random.next() % 5 == 0 ? Int(random.next() % 60) : (step / 10) % 60
            if random.next() % 50 == 0 { sets.append(Self.set(&random)) }
            let set = random.pick(sets)
            let answer = rows[row].withUnsafeBytes { bytes in
                memo.found(set, batchID: Int64(row / 7), index: Int64(row), in: bytes)
            }
            let expected = rows[row].withUnsafeBytes { set.found(in: $0) }
            #expect(answer == expected, "row \(String(decoding: rows[row], as: UTF8.self))")
            checked += 1
            if expected { found += 1 }
        }
        #expect(found > checked / 10 && found < checked * 9 / 10, "both answers are exercised: \(found) of \(checked)")
    }

    @Test func theAutomatonFindsEveryEndLeftmostFirst() {
        let patterns = ["he", "she", "his", "hers", "e"].map { Array($0.utf8) }
        guard let automaton = SubstringAutomaton(patterns, maxTableEntries: 1 << 20) else {
            Issue.record("not built")
            return
        }
        var ends: [(Int, Int)] = []
        Array("uSHErs".utf8).withUnsafeBytes { bytes in automaton.forEachEnd(in: bytes) { ends.append(($0, $1)) } }
        // "she" and "he" end at 4, "e" too; "hers" at 6.
        #expect(ends.map(\.1) == [4, 4, 4, 6])
        #expect(Set(ends.filter { $0.1 == 4 }.map(\.0)) == [0, 1, 4])
        #expect(ends.last?.0 == 3)
        #expect(SubstringAutomaton(patterns, maxTableEntries: 4) == nil, "too large: not built")
    }
}
