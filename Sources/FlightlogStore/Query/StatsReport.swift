import GRDB

/// Counts per key and time bucket, with what stands out.
public struct StatsReport: Sendable, Equatable {
    /// One key's count in one bucket; `spike` when it exceeds `spikeFactor` × the median of that key's buckets.
    public struct Bucket: Sendable, Equatable {
        public var key: String
        public var startNanos: Int64
        public var count: Int
        public var spike: Bool

        package init(key: String, startNanos: Int64, count: Int, spike: Bool) {
            self.key = key
            self.startNanos = startNanos
            self.count = count
            self.spike = spike
        }
    }

    /// Something unusual: a spike, a first-seen user on a host or IP for a user, activity outside working hours.
    public struct Note: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case spike
            case newUserOnHost = "new_user_on_host"
            case newIPForUser = "new_ip_for_user"
            case offHours = "off_hours"
        }

        public var kind: Kind
        public var timeNanos: Int64
        public var detail: String
    }

    public var buckets: [Bucket]
    public var notes: [Note]
    public var total: Int
}

extension StatsReport {
    /// The report from the counts a store found: `buckets` per key and bucket (ordered by key, then time), `hours`
    /// per key and hour, and the first-seen notes. Marks as spikes the buckets above `spikeFactor` × their key's
    /// median bucket (a key with at least three buckets) holding at least `minimumSpike` events, and notes the hours
    /// outside `workHours`. Shared by both stores, so that `stats` reads the same on each.
    package init(
        key: StatsKey,
        buckets: [Bucket],
        hours: [(key: String, hour: Int64, count: Int)],
        firstSeen: [Note],
        workHours: WorkHours,
        spikeFactor: Double,
        minimumSpike: Int
    ) {
        var buckets = buckets
        var notes: [Note] = []
        // Spikes against each key's own baseline.
        var start = 0
        while start < buckets.count {
            var end = start
            while end < buckets.count, buckets[end].key == buckets[start].key { end += 1 }
            let counts = buckets[start..<end].map(\.count).sorted()
            let median = Double(counts[counts.count / 2] + counts[(counts.count - 1) / 2]) / 2
            if end - start >= 3 {
                for index in start..<end
                where Double(buckets[index].count) > spikeFactor * median && buckets[index].count >= minimumSpike {
                    buckets[index].spike = true
                    notes.append(
                        Note(
                            kind: .spike,
                            timeNanos: buckets[index].startNanos,
                            detail:
                                "\(key.rawValue) \(buckets[index].key): \(buckets[index].count) events, median bucket \(median)"
                        )
                    )
                }
            }
            start = end
        }
        for (name, hour, count) in hours where !workHours.contains(hour) {
            notes.append(
                Note(
                    kind: .offHours,
                    timeNanos: hour,
                    detail: "\(key.rawValue) \(name): \(count) events outside working hours"
                )
            )
        }
        notes += firstSeen
        notes.sort { $0.timeNanos < $1.timeNanos }
        self.init(buckets: buckets, notes: notes, total: buckets.reduce(0) { $0 + $1.count })
    }

    /// The note that `second` (a user, or a source IP) was seen with `first` (a host, or a user) for the first time
    /// at `timeNanos`.
    package static func firstSeen(_ kind: Note.Kind, first: String, second: String, at timeNanos: Int64) -> Note {
        let detail =
            kind == .newUserOnHost
            ? "user \(second) on host \(first) for the first time"
            : "user \(first) from source IP \(second) for the first time"
        return Note(kind: kind, timeNanos: timeNanos, detail: detail)
    }
}
