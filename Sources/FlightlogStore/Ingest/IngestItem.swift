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
    /// Its distinct field keys, programs and sources, for the catalogue.
    let catalogue: BatchCatalogue

    /// The item for a batch whose payload `layout` located (``SignedBatch/decodeLayout(inflate:)``).
    public init(agentID: Int64, batch: SignedBatch, layout: EventLayout, receivedNanos: Int64) {
        self.agentID = agentID
        self.batch = batch
        self.receivedNanos = receivedNanos
        self.layout = layout
        self.rows = PreparedRows(layout)
        self.catalogue = BatchCatalogue(layout, self.rows.columns)
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
