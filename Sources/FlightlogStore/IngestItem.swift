public import FlightlogWire

/// A batch that passed every check that does not need the database (format, key, signature, payload).
///
/// The column values of its rows are computed when the item is made (on the connection's task, in parallel with
/// other connections), so that the single writer only binds and inserts.
public struct IngestItem: Sendable {
    public var agentID: Int64
    public var batch: SignedBatch
    public var events: [Event]
    public var receivedNanos: Int64
    /// One per event, in order.
    let rows: [PreparedRow]

    public init(agentID: Int64, batch: SignedBatch, events: [Event], receivedNanos: Int64) {
        self.agentID = agentID
        self.batch = batch
        self.events = events
        self.receivedNanos = receivedNanos
        self.rows = events.map(PreparedRow.init)
    }
}

/// The derived column values of one event row.
struct PreparedRow: Sendable {
    var columns: IndexedColumns
    var fieldsJSON: String

    init(_ event: Event) {
        self.columns = IndexedColumns(event)
        self.fieldsJSON = FieldsJSON.encode(event.fields)
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
