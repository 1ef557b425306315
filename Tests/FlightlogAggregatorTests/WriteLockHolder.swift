import FlightlogTestSupport
import FlightlogWire
import GRDB
import Testing

/// Another connection holding the evidence database's write lock (`BEGIN IMMEDIATE`), as a database that has fallen
/// behind would: nothing commits, so nothing is acknowledged, until ``release()``.
struct WriteLockHolder {
    private let queue: DatabaseQueue

    init(_ path: String) async throws {
        var unsafe = Configuration()
        unsafe.allowsUnsafeTransactions = true
        self.queue = try DatabaseQueue(path: path, configuration: unsafe)
        try await self.queue.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
    }

    func release() async throws {
        try await self.queue.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
    }
}

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
