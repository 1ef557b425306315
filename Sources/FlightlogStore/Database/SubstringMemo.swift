/// Which patterns of every pattern set a connection has used occur in one event's line (or in its `fields` JSON),
/// found in one pass over its bytes for all the sets together.
///
/// A hunt's shared pass evaluates dozens of rules on each row, and each rule's keyword list or `contains` prefilter
/// is a ``SubstringSetFunction/PatternSet`` of its own: searched set by set, the same line was scanned once per rule
/// (SigmaHQ's 122 process_creation rules: ~1,000 scans of each exec view's fields). Here the first set asked about
/// a row has every known pattern searched by one automaton (``SubstringAutomaton``); the other sets read their
/// patterns' results. The answer is the set's own ``SubstringSetFunction/PatternSet/found(in:)``, exactly: the same
/// folded bytes, the same greedy search of the parts after a `*` from the leftmost place the first part ends.
///
/// A set met for the first time is searched on its own for that row and joins the automaton, rebuilt when the next
/// row comes. One memo serves one connection (``BatchContentCache``), one statement step at a time.
final class SubstringMemo {
    /// How many memos a connection has (the line's, the fields JSON's): each set keeps an ``Entry`` per slot.
    static let slots = 2
    /// Beyond this many patterns, or an automaton of more than ``maxTableEntries`` transitions, sets search on their
    /// own (a set of thousands of long patterns).
    static let maxPatterns = 20_000
    /// 2 M transitions of 4 bytes: 8 MiB.
    static let maxTableEntries = 2 << 20
    /// A set not asked about for this many rows leaves the automaton at the next rebuild: a statement's sets are
    /// asked about on most rows, and the next statement's sets are others.
    static let liveRows = 256

    /// Where a memo holds a set.
    struct Entry {
        /// The memo's generation the range belongs to (-1: none).
        var generation = -1
        var range = 0..<0
        var lastAsked = -1
        /// Whether the memo counts it among its live sets.
        var isLive = false
    }

    /// This memo's ``Entry`` in every set.
    let slot: Int
    /// Bumped at each rebuild: a set's entry of an older generation is not in the automaton.
    private var generation = 0
    /// The sets asked about recently (those of the automaton, and those met since it was built).
    private var live: [SubstringSetFunction.PatternSet] = []
    /// Whether a set not in the automaton was asked about since it was built.
    private var missing = false
    private var automaton: SubstringAutomaton?
    /// The automaton's patterns, each its parts after the first (empty for a pattern without a `*`).
    private var later: [[[UInt8]]] = []
    /// The row whose bytes `status` describes, and how many rows came before it.
    private var row: (batchID: Int64, index: Int64)?
    private var rowNumber = 0
    /// Per pattern of the automaton, for `row`: 0 not seen, 1 its first part seen but the rest not found, 2 found.
    private var status: [UInt8] = []
    /// The patterns whose status is not 0.
    private var touched: [Int32] = []

    init(slot: Int) {
        self.slot = slot
    }

    /// Whether `set` occurs in `bytes`, the line (or fields JSON) of event `index` of batch `batchID`.
    func found(
        _ set: SubstringSetFunction.PatternSet,
        batchID: Int64,
        index: Int64,
        in bytes: UnsafeRawBufferPointer
    ) -> Bool {
        if set.hasEmpty { return true }
        if self.row?.batchID != batchID || self.row?.index != index {
            self.row = (batchID, index)
            self.rowNumber += 1
            if self.missing || self.rowNumber % Self.liveRows == 0 { self.rebuild() }
            self.search(bytes)
        }
        let entry = set.memoEntries[self.slot]
        if entry.lastAsked != self.rowNumber { set.memoEntries[self.slot].lastAsked = self.rowNumber }
        guard entry.generation == self.generation else {
            if !entry.isLive {
                set.memoEntries[self.slot].isLive = true
                self.live.append(set)
                self.missing = true
            }
            return set.found(in: bytes)
        }
        return self.status.withUnsafeBufferPointer { status in
            entry.range.contains { status[$0] == 2 }
        }
    }

    /// The automaton of the sets asked about in the last ``liveRows`` rows, when there are several (one set alone
    /// searches faster on its own).
    private func rebuild() {
        let added = self.missing
        self.missing = false
        let oldest = self.rowNumber - Self.liveRows
        let live = self.live.filter { $0.memoEntries[self.slot].lastAsked >= oldest }
        for set in self.live where set.memoEntries[self.slot].lastAsked < oldest {
            set.memoEntries[self.slot].isLive = false
        }
        let unchanged = live.count == self.live.count && !added
        self.live = live
        if unchanged { return }
        self.generation += 1
        self.automaton = nil
        self.later = []
        self.touched = []
        let total = live.reduce(0) { $0 + $1.patterns.count }
        guard live.count > 1, total <= Self.maxPatterns else { return }
        var firsts: [[UInt8]] = []
        var later: [[[UInt8]]] = []
        var ranges: [Range<Int>] = []
        for set in live {
            let start = firsts.count
            for pattern in set.patterns {
                firsts.append(pattern[0])
                later.append(Array(pattern.dropFirst()))
            }
            ranges.append(start..<firsts.count)
        }
        // Too large: the sets search on their own (their entries stay of an older generation).
        guard let automaton = SubstringAutomaton(firsts, maxTableEntries: Self.maxTableEntries) else { return }
        for (set, range) in zip(live, ranges) {
            set.memoEntries[self.slot].generation = self.generation
            set.memoEntries[self.slot].range = range
        }
        self.automaton = automaton
        self.later = later
        self.status = [UInt8](repeating: 0, count: firsts.count)
    }

    /// Sets `status` for `bytes`.
    private func search(_ bytes: UnsafeRawBufferPointer) {
        guard let automaton = self.automaton else { return }
        // Locals, so that the loop below makes no exclusive access to the memo's properties.
        var touched = self.touched
        self.touched = []
        let later = self.later
        self.status.withUnsafeMutableBufferPointer { status in
            for pattern in touched { status[Int(pattern)] = 0 }
            touched.removeAll(keepingCapacity: true)
            automaton.forEachEnd(in: bytes) { pattern, end in
                guard status[pattern] == 0 else { return }
                touched.append(Int32(pattern))
                status[pattern] =
                    later[pattern].isEmpty
                        || SubstringSetFunction.PatternSet.found(later[pattern], in: bytes, from: end)
                    ? 2 : 1
            }
        }
        self.touched = touched
    }
}

/// An Aho–Corasick automaton over folded bytes (ASCII letters without case): where each pattern occurs in a text,
/// in one pass over it, whatever the number of patterns.
///
/// Dense: one transition per state and byte class (the bytes that occur in some pattern each have a class, all
/// others share class 0), failure links resolved into the table, so that each byte of the text costs one lookup.
struct SubstringAutomaton {
    /// How many patterns it finds (their numbers are their positions in the list it was built from).
    let count: Int
    /// A byte's class, ASCII letters folded.
    private let classOf: [Int32]
    private let classCount: Int
    /// State `s`, class `c` → `next[s * classCount + c]`.
    private let next: [Int32]
    /// The patterns that end at state `s`: `outputs[outputStart[s]..<outputStart[s + 1]]`.
    private let outputStart: [Int32]
    private let outputs: [Int32]

    /// The automaton of `patterns` (folded, not empty); nil if it would hold more than `maxTableEntries` transitions.
    init?(_ patterns: [[UInt8]], maxTableEntries: Int) {
        self.count = patterns.count
        var classOfByte = [Int32](repeating: 0, count: 256)
        var classCount: Int32 = 1
        for pattern in patterns {
            for byte in pattern where classOfByte[Int(byte)] == 0 {
                classOfByte[Int(byte)] = classCount
                classCount += 1
            }
        }
        let classes = Int(classCount)
        // The trie: child transitions by class, -1 for none; own outputs per state.
        var children: [[Int32]] = [[Int32](repeating: -1, count: classes)]
        var own: [[Int32]] = [[]]
        for (number, pattern) in patterns.enumerated() {
            var state = 0
            for byte in pattern {
                let symbol = Int(classOfByte[Int(byte)])
                if children[state][symbol] < 0 {
                    children[state][symbol] = Int32(children.count)
                    children.append([Int32](repeating: -1, count: classes))
                    own.append([])
                }
                state = Int(children[state][symbol])
            }
            own[state].append(Int32(number))
        }
        let states = children.count
        guard states * classes <= maxTableEntries else { return nil }
        // Breadth first: each state's failure link and full transition row, from its parent's.
        var next = [Int32](repeating: 0, count: states * classes)
        var failure = [Int32](repeating: 0, count: states)
        var merged = own
        var queue: [Int] = []
        for symbol in 0..<classes {
            let child = children[0][symbol]
            if child > 0 {
                next[symbol] = child
                queue.append(Int(child))
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            let fallback = Int(failure[state])
            merged[state] += merged[fallback]
            for symbol in 0..<classes {
                let child = children[state][symbol]
                if child > 0 {
                    failure[Int(child)] = next[fallback * classes + symbol]
                    next[state * classes + symbol] = child
                    queue.append(Int(child))
                } else {
                    next[state * classes + symbol] = next[fallback * classes + symbol]
                }
            }
        }
        var outputStart: [Int32] = [0]
        var outputs: [Int32] = []
        for state in 0..<states {
            outputs += merged[state]
            outputStart.append(Int32(outputs.count))
        }
        self.classOf = (0..<256).map { classOfByte[Int(SubstringSetFunction.folded[$0])] }
        self.classCount = classes
        self.next = next
        self.outputStart = outputStart
        self.outputs = outputs
    }

    /// Calls `body` with each pattern's number and the position just past its end, for every place a pattern ends in
    /// `bytes`, leftmost end first.
    @inline(__always)
    func forEachEnd(in bytes: UnsafeRawBufferPointer, _ body: (Int, Int) -> Void) {
        self.classOf.withUnsafeBufferPointer { classOf in
            self.next.withUnsafeBufferPointer { next in
                self.outputStart.withUnsafeBufferPointer { outputStart in
                    var state = 0
                    for position in 0..<bytes.count {
                        state = Int(next[state * self.classCount + Int(classOf[Int(bytes[position])])])
                        var output = Int(outputStart[state])
                        let end = Int(outputStart[state + 1])
                        while output < end {
                            body(Int(self.outputs[output]), position + 1)
                            output += 1
                        }
                    }
                }
            }
        }
    }
}
