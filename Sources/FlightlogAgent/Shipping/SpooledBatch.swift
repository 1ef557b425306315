import Crypto
import FlightlogWire

/// A batch as the spool holds it: what BATCH carries, byte for byte, and the hash its ACK must name.
struct SpooledBatch: Equatable, Sendable {
    /// The sequence the spool files it under.
    let sequence: UInt64
    /// The signed envelope as built (PROTOCOL.md §5): a resend is these bytes, never a rebuilt batch.
    let envelope: [UInt8]
    /// SHA-256 of the whole envelope, signature included (PROTOCOL.md §5, "Batch hash").
    let hash: Bytes32

    init(sequence: UInt64, envelope: [UInt8]) {
        self.sequence = sequence
        self.envelope = envelope
        self.hash = Bytes32(SHA256.hash(data: envelope)) ?? .zero
    }
}
