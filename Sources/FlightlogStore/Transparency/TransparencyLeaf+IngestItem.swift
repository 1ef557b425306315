public import FlightlogEvidence
public import FlightlogWire

extension TransparencyLeaf {
    /// The leaf for a batch being stored now.
    public init(_ item: IngestItem, hash: Bytes32) {
        self.init(
            keyID: item.batch.keyID,
            epoch: item.batch.epoch,
            sequence: item.batch.sequence,
            receivedNanos: item.receivedNanos,
            batchHash: hash
        )
    }
}
