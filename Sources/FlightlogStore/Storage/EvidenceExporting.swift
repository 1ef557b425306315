/// `flightlog export`: an evidence bundle (``FlightlogEvidence/BundleFormat``) of the events a query selects.
public protocol EvidenceExporting: Sendable {
    /// Exports what `query` selects into the new (or empty) directory `directory`, with inclusion proofs of its
    /// batches against the latest checkpoint signed by `checkpointKey` (or a fresh one when that does not cover
    /// them). Throws ``StoreError/cannotExport(_:)`` when no checkpoint can be had, or when the stored tree does not
    /// lead to the checkpoint's root; the directory then holds an incomplete bundle without manifest.json.
    func export(
        _ query: EventQuery,
        to directory: String,
        checkpointKey: BundleCheckpointKey?,
        who: String,
        command: [String],
        filters: [(String, String)],
        now: Int64
    ) async throws -> ExportSummary
}
