import FlightlogTestSupport
import FlightlogWire
import Testing

/// Expects one ACK `stored` per batch of epoch 1, in order (heartbeats skipped).
func expectStored(
    _ connection: TestConnection,
    _ batches: [SignedBatch],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    for batch in batches {
        #expect(
            try await connection.receiveSkippingHeartbeats()
                == .ack(Ack(epoch: 1, sequence: batch.sequence, batchHash: batch.hash, status: .stored)),
            sourceLocation: sourceLocation
        )
    }
}

/// The code of an ERROR frame, or nil for anything else.
func errorCode(_ frame: Frame?) -> ErrorCode? {
    if case .error(let error) = frame { return error.code }
    return nil
}
