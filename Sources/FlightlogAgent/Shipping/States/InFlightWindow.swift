import FlightlogWire

/// The batches sent on one connection and not acknowledged yet, oldest first (PROTOCOL.md §7.4).
///
/// The aggregator acknowledges every BATCH, in the order they arrived, so an ACK must name the oldest batch here:
/// its epoch, its sequence and its hash.
struct InFlightWindow: Equatable, Sendable {
    /// A batch on the wire: what its ACK must name.
    struct Batch: Equatable, Sendable {
        var sequence: UInt64
        var hash: Bytes32
    }

    /// Most batches that may be unacknowledged at once: WELCOME's window.
    let size: Int
    /// The highest sequence sent on this connection; before the first, WELCOME's last sequence.
    private(set) var lastSent: UInt64
    /// Sent and not acknowledged, oldest first.
    private(set) var batches: [Batch] = []

    init(size: Int, lastSent: UInt64) {
        self.size = size
        self.lastSent = lastSent
    }

    /// How many more batches may be sent before an ACK.
    var room: Int { max(0, self.size - self.batches.count) }

    /// Whether every batch sent was acknowledged.
    var isEmpty: Bool { self.batches.isEmpty }

    /// Puts `batch` in flight when there is room and it comes after the last one sent (batches go out in
    /// increasing sequence order, PROTOCOL.md §7.3 rule 2). Returns whether it did.
    mutating func send(_ batch: SpooledBatch) -> Bool {
        guard self.room > 0, batch.sequence > self.lastSent else { return false }
        self.batches.append(Batch(sequence: batch.sequence, hash: batch.hash))
        self.lastSent = batch.sequence
        return true
    }

    /// Takes the oldest batch out when `ack` names it (PROTOCOL.md §7.4 rule 3). Otherwise keeps every batch and
    /// says what is wrong with the ACK, as the message of the `unexpectedFrame` it gets.
    mutating func acknowledge(_ ack: Ack, epoch: UInt64) -> String? {
        guard let oldest = self.batches.first, ack.sequence == oldest.sequence, ack.epoch == epoch else {
            return "unexpected ACK for sequence \(ack.sequence)"
        }
        guard ack.batchHash == oldest.hash else {
            return "ACK for sequence \(ack.sequence) names batch hash \(ack.batchHash), not \(oldest.hash)"
        }
        self.batches.removeFirst()
        return nil
    }
}
