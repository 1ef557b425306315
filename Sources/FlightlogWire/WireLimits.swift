/// The protocol's hard limits, enforced while decoding and before anything is allocated.
///
/// Every number here is normative: `protocol/PROTOCOL.md`, section "Limits", states the same values.
/// A peer that exceeds one of them is sent an `ERROR` frame and disconnected.
public enum WireLimits {
    /// Largest value of a frame's length field (type byte plus body), PROTOCOL.md §3.
    ///
    /// Big enough for a batch at ``maxUncompressedBatchLength`` that did not compress at all.
    public static let maxFrameLength = 4 * 1024 * 1024 + 1024

    /// Largest frame length an aggregator accepts before it has sent WELCOME, PROTOCOL.md §3 and §7.2.
    ///
    /// Before WELCOME an agent may send only HELLO (at most 311), PROOF (65), ERROR and GOODBYE; the largest of
    /// them is an ERROR with a message of ``maxMessageLength`` bytes: 1 + 12 + 1,024. A peer that has not proved
    /// its key can therefore make the aggregator buffer ~1 KiB, not a 4 MiB frame, per connection.
    public static let maxHandshakeFrameLength = 1 + 12 + 1024

    /// Largest uncompressed event payload a batch may declare, PROTOCOL.md §5.
    public static let maxUncompressedBatchLength = 4 * 1024 * 1024

    /// Largest compressed payload a batch may carry, PROTOCOL.md §5.
    public static let maxCompressedBatchLength = 4 * 1024 * 1024

    /// Most events one batch may hold, PROTOCOL.md §5.
    public static let maxEventsPerBatch = 65_536

    /// Longest raw line, in bytes, one event may carry; agents split longer lines, PROTOCOL.md §6.
    public static let maxLineLength = 64 * 1024

    /// Most parsed fields one event may carry, PROTOCOL.md §6.
    public static let maxFieldsPerEvent = 64

    /// Longest field key, in bytes (the length is one byte), PROTOCOL.md §6.
    public static let maxFieldKeyLength = 255

    /// Longest field value, in bytes, PROTOCOL.md §6.
    public static let maxFieldValueLength = 8 * 1024

    /// Longest host name, in bytes, PROTOCOL.md §6.
    public static let maxHostLength = 255

    /// Longest source name (file path or channel), in bytes, PROTOCOL.md §6.
    public static let maxSourceLength = 4096

    /// Longest agent name in `HELLO`, in bytes, PROTOCOL.md §4.1.
    public static let maxAgentNameLength = 255

    /// Longest human-readable message in `ERROR` and `GOODBYE`, in bytes, PROTOCOL.md §4.
    public static let maxMessageLength = 1024

    /// Most counters one `HEARTBEAT` may carry, PROTOCOL.md §4.7.
    public static let maxHeartbeatCounters = 64

    /// Longest counter name in `HEARTBEAT`, in bytes, PROTOCOL.md §4.7.
    public static let maxCounterNameLength = 64

    /// Largest window an aggregator may grant: batches sent and not yet acknowledged, PROTOCOL.md §7.
    public static let maxWindow = 1024

    /// Longest enrolment token in `ENROLL`, bytes (PROTOCOL.md §4.10): the issued form is 56.
    public static let maxTokenLength = 64
}
