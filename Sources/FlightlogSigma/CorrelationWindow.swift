/// One match fed into a correlation: an event (start = end), or the hit of another correlation.
package struct CorrelationInput: Sendable {
    package var start: Int64
    package var end: Int64
    /// The group-by values, one per group-by field of the correlation being evaluated.
    package var key: [String]
    /// `value_count`'s field value.
    package var value: String?
    /// Which of the correlation's rules it matched (index into `rules`).
    package var rule: Int
    package var eventIDs: [Int64]

    package init(start: Int64, end: Int64, key: [String], value: String?, rule: Int, eventIDs: [Int64]) {
        self.start = start
        self.end = end
        self.key = key
        self.value = value
        self.rule = rule
        self.eventIDs = eventIDs
    }
}

extension SigmaCorrelation {
    /// Evaluates this correlation over its inputs (any order), hits sorted by start.
    package func hits(_ inputs: [CorrelationInput]) -> [CorrelationHit] {
        var groups: [[String]: [CorrelationInput]] = [:]
        for input in inputs {
            if self.kind == .valueCount, input.value == nil { continue }
            groups[input.key, default: []].append(input)
        }
        var hits: [CorrelationHit] = []
        for (key, var members) in groups {
            members.sort { ($0.start, $0.end, $0.eventIDs.first ?? 0) < ($1.start, $1.end, $1.eventIDs.first ?? 0) }
            let found: [ArraySlice<CorrelationInput>] =
                self.kind == .temporalOrdered ? self.orderedChains(members) : self.windows(members)
            for window in found {
                let ids = Array(Set(window.flatMap(\.eventIDs))).sorted()
                hits.append(
                    CorrelationHit(
                        group: zip(self.groupBy, key).map { CorrelationHit.GroupValue(field: $0, value: $1) },
                        start: window.map(\.start).min() ?? 0,
                        end: window.map(\.end).max() ?? 0,
                        matches: window.count,
                        eventIDs: ids
                    )
                )
            }
        }
        return hits.sorted { ($0.start, $0.eventIDs.first ?? 0) < ($1.start, $1.eventIDs.first ?? 0) }
    }

    /// `event_count`, `value_count` and `temporal`: a window from each not yet used match, `timespan` long; it is
    /// a hit when its count (events, distinct values or distinct rules) satisfies the condition. With lower
    /// bounds only, a window ends as soon as it does.
    private func windows(_ members: [CorrelationInput]) -> [ArraySlice<CorrelationInput>] {
        var found: [ArraySlice<CorrelationInput>] = []
        let needed = self.condition
        let stopEarly = needed?.onlyLowerBounds ?? true
        var tally: [String: Int] = [:]
        func name(_ input: CorrelationInput) -> String {
            switch self.kind {
            case .valueCount: input.value ?? ""
            case .temporal, .temporalOrdered: String(input.rule)
            case .eventCount: ""
            }
        }
        func count(_ events: Int) -> Int { self.kind == .eventCount ? events : tally.count }
        func satisfied(_ events: Int) -> Bool {
            if let needed { return needed.holds(count(events)) }
            return tally.count == self.rules.count
        }
        var start = 0
        var end = 0
        while start < members.count {
            let limit = members[start].start.addingReportingOverflow(self.timespanNanos)
            let last = limit.overflow ? Int64.max : limit.partialValue
            var hit = stopEarly && end > start && satisfied(end - start)
            while !hit, end < members.count, members[end].start <= last {
                tally[name(members[end]), default: 0] += 1
                end += 1
                if stopEarly, satisfied(end - start) { hit = true }
            }
            if !stopEarly { hit = satisfied(end - start) }
            if hit {
                found.append(members[start..<end])
                start = end
                tally.removeAll(keepingCapacity: true)
            } else {
                let key = name(members[start])
                if let left = tally[key] { tally[key] = left > 1 ? left - 1 : nil }
                start += 1
                end = max(end, start)
            }
        }
        return found
    }

    /// `temporal_ordered`: from each match of the first rule not yet used, the earliest match of the second rule
    /// at or after it, then of the third…, all within `timespan` of the first. The hit holds those matches and
    /// any other matches of the first rule in between (a second reset before the login, say).
    private func orderedChains(_ members: [CorrelationInput]) -> [ArraySlice<CorrelationInput>] {
        var byRule = [[Int]](repeating: [], count: self.rules.count)
        for (index, member) in members.enumerated() where member.rule < byRule.count {
            byRule[member.rule].append(index)
        }
        var found: [ArraySlice<CorrelationInput>] = []
        var usedThrough = Int64.min
        var anchorIndex = 0
        while anchorIndex < byRule[0].count {
            let anchor = members[byRule[0][anchorIndex]]
            anchorIndex += 1
            guard anchor.start > usedThrough else { continue }
            let limit = anchor.start.addingReportingOverflow(self.timespanNanos)
            let last = limit.overflow ? Int64.max : limit.partialValue
            var chain = [anchor]
            var after = anchor.end
            for rule in 1..<max(1, self.rules.count) {
                let positions = byRule[rule]
                var low = 0
                var high = positions.count
                while low < high {
                    let middle = (low + high) / 2
                    if members[positions[middle]].start < after { low = middle + 1 } else { high = middle }
                }
                // The same event can match two of the rules; it cannot play both parts.
                while low < positions.count, members[positions[low]].eventIDs == chain.last?.eventIDs { low += 1 }
                guard low < positions.count, members[positions[low]].start <= last else { break }
                chain.append(members[positions[low]])
                after = members[positions[low]].end
            }
            guard chain.count == self.rules.count else { continue }
            let through = chain.last?.start ?? anchor.start
            var between: [CorrelationInput] = []
            var next = anchorIndex
            while next < byRule[0].count, members[byRule[0][next]].start <= through {
                between.append(members[byRule[0][next]])
                next += 1
            }
            found.append((chain + between)[...])
            usedThrough = through
        }
        return found
    }
}
