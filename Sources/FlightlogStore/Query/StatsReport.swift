import GRDB

/// Counts per key and time bucket, with what stands out.
public struct StatsReport: Sendable, Equatable {
    /// One key's count in one bucket; `spike` when it exceeds `spikeFactor` × the median of that key's buckets.
    public struct Bucket: Sendable, Equatable {
        public var key: String
        public var startNanos: Int64
        public var count: Int
        public var spike: Bool
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
