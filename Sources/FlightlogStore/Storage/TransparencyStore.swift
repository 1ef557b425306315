public import FlightlogEvidence
public import FlightlogWire

/// The aggregator's transparency log as storage holds it: what `CheckpointService`, `flightlog checkpoint` and the
/// exporter need (PROTOCOL.md §9).
public protocol TransparencyStore: Sendable {
    /// Number of leaves (batches accepted so far).
    func treeSize() async throws(StoreError) -> UInt64

    /// Signs and stores a checkpoint of the whole current tree; with `onlyWhenGrown`, nil when the tree has not
    /// grown since the latest stored checkpoint.
    func makeCheckpoint(
        signer: CheckpointSigner,
        atNanos: Int64,
        onlyWhenGrown: Bool
    ) async throws(StoreError) -> SignedCheckpoint?

    /// Every stored checkpoint, oldest first.
    func checkpoints() async throws(StoreError) -> [StoredCheckpoint]

    /// The audit path of batch `batchID` in the tree of the first `treeSize` leaves; nil when it is not among them.
    func inclusionProof(batchID: Int64, treeSize: UInt64) async throws(StoreError) -> InclusionProof?

    /// The RFC 6962 consistency proof between two tree sizes.
    func consistencyProof(oldSize: UInt64, newSize: UInt64) async throws(StoreError) -> [Bytes32]

    /// The root of the first `size` leaves.
    func treeRoot(size: UInt64) async throws(StoreError) -> Bytes32
}

extension TransparencyStore {
    public func makeCheckpoint(signer: CheckpointSigner, atNanos: Int64) async throws(StoreError) -> SignedCheckpoint? {
        try await self.makeCheckpoint(signer: signer, atNanos: atNanos, onlyWhenGrown: false)
    }
}
