import FlightlogEvidence
public import FlightlogWire

/// A batch that passed every check that does not need the database (format, key, signature, payload).
///
/// The column values of its rows are computed when the item is made (on the connection's task, in parallel with
/// other connections), so that the single writer only binds and inserts. They are read in place from the inflated
/// payload (``EventLayout``), with the same functions `verify` derives them with (``IndexedSpans``,
/// ``FieldsJSON``): no `String` per value, no second copy of the events.
public struct IngestItem: Sendable {
    public var agentID: Int64
    public var batch: SignedBatch
    public var receivedNanos: Int64
    /// The batch's events, located in its inflated payload.
    let layout: EventLayout
    /// One per event, in order.
    let rows: PreparedRows

    /// The item for a batch whose payload `layout` located (``SignedBatch/decodeLayout(inflate:)``).
    public init(agentID: Int64, batch: SignedBatch, layout: EventLayout, receivedNanos: Int64) {
        self.agentID = agentID
        self.batch = batch
        self.receivedNanos = receivedNanos
        self.layout = layout
        self.rows = PreparedRows(layout)
    }

    /// The item for `batch` whose events are `events` (encoded again to locate them: for tests and tools that hold
    /// the events already); throws what encoding them throws.
    public init(agentID: Int64, batch: SignedBatch, events: [Event], receivedNanos: Int64) throws(WireError) {
        let layout = try EventLayout(EventCodec.encode(events), count: events.count)
        self.init(agentID: agentID, batch: batch, layout: layout, receivedNanos: receivedNanos)
    }

    /// Calls `body` with the row values of each event in turn: its entry, its indexed columns, and the payload bytes
    /// and its `fields` JSON those refer to.
    func withRows(
        _ body: (
            _ index: Int, _ entry: EventLayout.Entry, _ columns: IndexedSpans, _ payload: UnsafeBufferPointer<UInt8>,
            _ fieldsJSON: UnsafeBufferPointer<UInt8>
        ) throws -> Void
    ) rethrows {
        try self.layout.bytes.withUnsafeBufferPointer { payload in
            for (index, entry) in self.layout.entries.enumerated() {
                try self.rows.withJSON(index) { try body(index, entry, self.rows.columns[index], payload, $0) }
            }
        }
    }
}

/// The derived column values of a batch's event rows: each event's indexed columns, and its `fields` JSON, one
/// after the other in one buffer.
struct PreparedRows: Sendable {
    let columns: [IndexedSpans]
    let json: [UInt8]
    /// Event `i`'s JSON ends at `jsonEnd[i]` (and starts where event `i - 1`'s ends).
    let jsonEnd: [Int]

    /// `compact`: copy the JSON into a buffer of its own size, for rows that wait in the commit queue (see below);
    /// `verify`'s, used at once, keep the larger buffer.
    init(_ layout: EventLayout, compact: Bool = true) {
        self.columns = layout.entries.map { IndexedSpans(layout, $0) }
        var bound = 0
        for entry in layout.entries { bound += FieldsJSON.maxLength(layout, entry) }
        var ends: [Int] = []
        ends.reserveCapacity(layout.entries.count)
        let json = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            for entry in layout.entries {
                FieldsJSON.write(layout, entry, to: base, at: &count)
                ends.append(count)
            }
        }
        // The bound leaves room to escape every byte (six times the text); an item waits in the commit queue with
        // its rows, so they are copied into a buffer of their own size (~0.03 µs per event).
        self.json =
            compact
            ? [UInt8](unsafeUninitializedCapacity: json.count) { buffer, count in
                _ = buffer.initialize(from: json)
                count = json.count
            } : json
        self.jsonEnd = ends
    }

    /// Calls `body` with the `fields` JSON of event `index`.
    func withJSON<T>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        let start = index == 0 ? 0 : self.jsonEnd[index - 1]
        return try self.json.withUnsafeBufferPointer {
            try body(UnsafeBufferPointer(rebasing: $0[start..<self.jsonEnd[index]]))
        }
    }
}

/// What the store did with one batch.
public enum IngestOutcome: Equatable, Sendable {
    /// Stored now, in the committed transaction.
    case stored
    /// Already stored earlier with the same hash; nothing written.
    case duplicate
    /// Refused, with the protocol error to send (equivocation, chain broken). A finding was recorded.
    case refused(ErrorCode, String)
}

/// One handshake attempt, accepted or not, for the record.
public struct HandshakeRecord: Sendable {
    public var atNanos: Int64
    public var peer: String
    public var publicKey: Bytes32?
    public var agentID: Int64?
    public var agentName: String?
    public var epoch: UInt64?
    public var skewNanos: Int64?
    /// `accepted`, or the error code name.
    public var outcome: String

    public init(
        atNanos: Int64,
        peer: String,
        publicKey: Bytes32?,
        agentID: Int64?,
        agentName: String?,
        epoch: UInt64?,
        skewNanos: Int64?,
        outcome: String
    ) {
        self.atNanos = atNanos
        self.peer = peer
        self.publicKey = publicKey
        self.agentID = agentID
        self.agentName = agentName
        self.epoch = epoch
        self.skewNanos = skewNanos
        self.outcome = outcome
    }
}
