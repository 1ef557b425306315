import FlightlogEvidence
public import FlightlogWire

/// A batch that passed every check that does not need the database (format, key, signature, payload).
///
/// The column values of its rows are computed when the item is made (on the connection's task, in parallel with
/// other connections), so that the single writer only binds and inserts. They are read in place from the inflated
/// payload (``EventLayout``), with the function `verify` derives them with (``IndexedSpans``): no `String` per value,
/// no second copy of the events. The line and the `fields` JSON are not columns of the row (see
/// ``EventContentFunctions``).
public struct IngestItem: Sendable {
    public var agentID: Int64
    public var batch: SignedBatch
    public var receivedNanos: Int64
    /// The batch's events, located in its inflated payload.
    public let layout: EventLayout
    /// Each event's indexed columns, in order.
    let columns: [IndexedSpans]
    /// Its distinct field keys, programs and sources, for the catalogue.
    let catalogue: BatchCatalogue

    /// The item for a batch whose payload `layout` located (``SignedBatch/decodeLayout(inflate:)``).
    public init(agentID: Int64, batch: SignedBatch, layout: EventLayout, receivedNanos: Int64) {
        self.agentID = agentID
        self.batch = batch
        self.receivedNanos = receivedNanos
        self.layout = layout
        self.columns = layout.entries.map { IndexedSpans(layout, $0) }
        self.catalogue = BatchCatalogue(layout, self.columns)
    }

    /// The item for `batch` whose events are `events` (encoded again to locate them: for tests and tools that hold
    /// the events already); throws what encoding them throws.
    public init(agentID: Int64, batch: SignedBatch, events: [Event], receivedNanos: Int64) throws(WireError) {
        let layout = try EventLayout(EventCodec.encode(events), count: events.count)
        self.init(agentID: agentID, batch: batch, layout: layout, receivedNanos: receivedNanos)
    }

    /// The memory the item holds while it waits for its commit: the envelope, the inflated payload with its
    /// located events and fields, and each event's indexed columns.
    public var retainedBytes: Int {
        self.batch.bytes.count + self.layout.retainedBytes + self.columns.count * MemoryLayout<IndexedSpans>.stride
    }

    /// The indexed column values of event `index` (program, pid, user, source IP, severity), as `verify` derives
    /// them: for a storage engine outside this module.
    public func indexedValues(_ index: Int) -> IndexedValues {
        IndexedValues(self.layout, self.columns[index])
    }

    /// The distinct field keys, programs and sources of the batch's events, for a store's catalogue.
    public var catalogueNames: [(kind: String, name: String)] { self.catalogue.names.map { ($0.kind, $0.name) } }

    /// Calls `body` with the row values of each event in turn: its entry, its indexed columns, and the payload bytes
    /// those refer to.
    func withRows(
        _ body: (
            _ index: Int, _ entry: EventLayout.Entry, _ columns: IndexedSpans, _ payload: UnsafeBufferPointer<UInt8>
        ) throws -> Void
    ) rethrows {
        try self.layout.bytes.withUnsafeBufferPointer { payload in
            for (index, entry) in self.layout.entries.enumerated() {
                try body(index, entry, self.columns[index], payload)
            }
        }
    }
}

/// An event's values that a store indexes, besides its time and host (``IngestItem/indexedValues(_:)``).
public struct IndexedValues: Sendable, Equatable {
    public var program: String?
    public var pid: Int64?
    public var user: String?
    public var sourceIP: String?
    public var severity: String?

    /// The values of `entry` as ingest derives them (``IndexedSpans``): for a check that reads a batch again without
    /// making a whole ``IngestItem`` (its catalogue included).
    public init(_ layout: EventLayout, _ entry: EventLayout.Entry) {
        self.init(layout, IndexedSpans(layout, entry))
    }

    init(_ layout: EventLayout, _ columns: IndexedSpans) {
        let text = { (span: EventLayout.Span?) in
            span.map { layout.withBytes($0) { String(decoding: $0, as: UTF8.self) } }
        }
        self.program = text(columns.program)
        self.pid = columns.pid
        self.user = text(columns.user)
        self.sourceIP = text(columns.sourceIP)
        self.severity = text(columns.severity)
    }
}
