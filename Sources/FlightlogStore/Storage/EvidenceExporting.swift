public import FlightlogEvidence

/// `flightlog export`: an evidence bundle (``FlightlogEvidence/BundleFormat``) of the events a query selects.
public protocol EvidenceExporting: Sendable {
    /// Exports what `query` selects into the new (or empty) directory `directory`, with inclusion proofs of its
    /// batches against the latest checkpoint signed by `checkpointKey` (or a fresh one when that does not cover
    /// them). Throws ``StoreError/cannotExport(_:)`` when no checkpoint can be had, or when the stored tree does not
    /// lead to the checkpoint's root; the directory then holds an incomplete bundle without manifest.json. With
    /// `report`, the bundle also holds report.html (``FlightlogEvidence/ReportRenderer``), hashed in the manifest.
    func export(
        _ query: EventQuery,
        to directory: String,
        checkpointKey: BundleCheckpointKey?,
        who: String,
        command: [String],
        filters: [(String, String)],
        report: ReportOptions?,
        now: Int64
    ) async throws -> ExportSummary

    /// The investigator's report of what `query` selects, for a report written without a bundle (`export --html`
    /// alone): the custody section is read from the store. A bundle's own report.html is written by `export` when
    /// it is given `report` options.
    func incidentReport(_ query: EventQuery, options: ReportOptions, now: Int64) async throws -> IncidentReport
}
