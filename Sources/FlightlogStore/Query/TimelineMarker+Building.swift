import FlightlogEvidence
import FlightlogWire

extension TimelineMarker {
    /// The marker for `finding` of `agent` in the window [`since`, `until`), or nil when it falls outside. A gap sits
    /// between the last event before it (`before`: the `last_ns` of batch `from − 1`) and the first after it
    /// (`after`: the `first_ns` of batch `to + 1`), and matters to a window it overlaps; either may be unknown.
    /// Shared by both stores, so that a timeline reads the same on each.
    package static func forFinding(
        _ finding: ChainFinding,
        agent: String,
        before: Int64?,
        after: Int64?,
        since: Int64,
        until: Int64
    ) -> TimelineMarker? {
        guard finding.kind == .gap else {
            guard finding.atNanos >= since, finding.atNanos < until else { return nil }
            return TimelineMarker(
                kind: .finding,
                timeNanos: finding.atNanos,
                agent: agent,
                detail: "\(finding.kind.rawValue) (recorded on receipt): \(finding.detail)"
            )
        }
        guard let epoch = finding.epoch, let from = finding.fromSequence, let to = finding.toSequence else {
            return nil
        }
        let start = before ?? after ?? finding.atNanos
        let end = after ?? before ?? finding.atNanos
        guard end >= since, start < until else { return nil }
        let missing = from == to ? "batch \(from) is" : "batches \(from)…\(to) are"
        let between = [
            before.map { "after " + Timestamp.rfc3339($0) }, after.map { "before " + Timestamp.rfc3339($0) },
        ]
        .compactMap { $0 }.joined(separator: " and ")
        return TimelineMarker(
            kind: .gap,
            timeNanos: max(start, since),
            agent: agent,
            detail: "\(missing) missing from epoch \(epoch): events \(between) may be absent"
        )
    }

    /// The silences of `agent` longer than `threshold`: stretches that none of its stored batches' event-time ranges
    /// (`ranges`, as (first, last), in order of `first`, only those overlapping the window) cover, from the window's
    /// start (`since`) to its end (`until`) when those are given.
    package static func silences(
        agent: String,
        ranges: some Sequence<(first: Int64, last: Int64)>,
        since: Int64?,
        until: Int64?,
        threshold: Int64
    ) -> [TimelineMarker] {
        var markers: [TimelineMarker] = []
        var coveredUntil = since
        var atStart = true
        func silence(from start: Int64, to end: Int64, _ edge: String) {
            // Batch times are whatever agents signed (any i64): saturate rather than trap.
            let length = end.subtractingSaturating(start)
            guard length > threshold else { return }
            markers.append(
                TimelineMarker(
                    kind: .silence,
                    timeNanos: start,
                    agent: agent,
                    detail:
                        "no events for \(DurationText.describe(length)) (\(Timestamp.rfc3339(start)) → \(Timestamp.rfc3339(end))\(edge))"
                )
            )
        }
        for (first, last) in ranges {
            if let covered = coveredUntil {
                silence(from: covered, to: first, atStart ? ", from the window's start" : "")
            }
            atStart = false
            coveredUntil = max(coveredUntil ?? last, last)
        }
        if let covered = coveredUntil, let until, !atStart {
            silence(from: covered, to: until, ", to the window's end")
        }
        return markers
    }
}

extension TimelineContext {
    /// The context of `agents` (put in name order) and `markers` (put in time order).
    package init(sorting agents: [AgentRecord], markers: [TimelineMarker]) {
        self.agents = agents.sorted { $0.name < $1.name }
        self.markers = markers.sorted { ($0.timeNanos, $0.agent) < ($1.timeNanos, $1.agent) }
    }
}
