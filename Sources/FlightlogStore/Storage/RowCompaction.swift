/// What ``FlightlogStorage/compactRows(rowsPerTransaction:progress:)`` did: rows of a store written before lines were
/// kept in their batches (2026-12-07) that now hold the empty markers instead (see `EventContentFunctions`).
public struct RowCompaction: Sendable, Equatable {
    /// Rows whose line and fields equalled their signed batch's and were emptied.
    public var emptied: Int
    /// Rows still holding a line or fields in clear that differ from their batch's: left as they are, for
    /// `verify` to report (emptying them would erase the evidence of an edit).
    public var leftInClear: Int
    /// Every row up to this id has been examined.
    public var throughID: Int64
    /// The largest event id when the run started.
    public var lastID: Int64

    public init(emptied: Int = 0, leftInClear: Int = 0, throughID: Int64 = 0, lastID: Int64 = 0) {
        self.emptied = emptied
        self.leftInClear = leftInClear
        self.throughID = throughID
        self.lastID = lastID
    }
}
