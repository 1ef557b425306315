/// `flightlog verify` and the audit trail: the scheduled integrity check of every stored batch and indexed row,
/// and the record of what investigators did.
public protocol IntegrityChecking: Sendable {
    /// Checks what `options` say and records the run (unless the store is immutable).
    func verify(_ options: VerifyOptions) async throws(StoreError) -> VerifyReport

    /// The recorded verify runs, oldest first.
    func verifyRuns() async throws(StoreError) -> [VerifyRun]

    /// The last recorded run of each mode.
    func latestVerifyRuns() async throws(StoreError) -> [VerifyRun]

    /// The audit trail, oldest first.
    func auditEntries() throws(StoreError) -> [AuditEntry]

    /// Re-checks the audit trail's hash chain.
    func verifyAuditTrail() throws(StoreError) -> AuditVerification
}
