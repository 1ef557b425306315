import Crypto
import FlightlogTestSupport
import FlightlogWire
import Testing

@testable import FlightlogAgent

/// The shipper waits on the journal instead of polling it: a wait must end on the next commit or acknowledgement,
/// must not miss one that came between the snapshot and the wait, and must end when its task is cancelled.
@Suite("Waiting for the journal to change", .timeLimit(.minutes(1)))
struct JournalWaitTests {
    private static let key = Curve25519.Signing.PrivateKey()

    private static func batch(_ sequence: UInt64, epoch: UInt64) throws -> SignedBatch {
        let event = Event(timeNanos: 1, observedNanos: 1, host: "h", source: "s", line: [0x61], fields: [])
        return try SignedBatch.build(
            events: [event],
            header: BatchHeader(
                keyID: KeyID.of(Self.key.publicKey),
                epoch: epoch,
                sequence: sequence,
                previousHash: .zero,
                createdNanos: 1,
                events: [event]
            ),
            signingKey: Self.key
        )
    }

    @Test func theSnapshotListsWhatComesAfterAndCountsEveryChange() async throws {
        let directory = try TempDirectory()
        let journal = try Journal(directory: directory.path, maxSpoolBytes: 1 << 20, nowNanos: 1)
        let epoch = await journal.nextBatch.epoch
        let empty = await journal.spoolSnapshot(after: 0, limit: 10)
        #expect(empty.batches == 0 && empty.sequences.isEmpty)
        for sequence in UInt64(1)...3 {
            try await journal.commit(try Self.batch(sequence, epoch: epoch), tailer: TailerState())
        }
        let three = await journal.spoolSnapshot(after: 1, limit: 10)
        #expect(three.change == empty.change + 3)
        #expect(three.batches == 3 && three.sequences == [2, 3])
        #expect(await journal.spoolSnapshot(after: 0, limit: 0).sequences == [], "a limit of 0 lists nothing")
        await journal.acknowledge(through: 2)
        let one = await journal.spoolSnapshot(after: 0, limit: 10)
        #expect(one.change == three.change + 1 && one.batches == 1 && one.sequences == [3])
    }

    @Test func aWaitOnAnOlderSnapshotReturnsAtOnce() async throws {
        let directory = try TempDirectory()
        let journal = try Journal(directory: directory.path, maxSpoolBytes: 1 << 20, nowNanos: 1)
        let before = await journal.spoolSnapshot(after: 0, limit: 0)
        await journal.acknowledge(through: 0)
        let returned = await Self.firstOf(seconds: 10) {
            await journal.waitForChange(after: before.change)
            return true
        }
        #expect(returned == true, "the change between the snapshot and the wait is not missed")
    }

    @Test func aCommitWakesAWaiter() async throws {
        let directory = try TempDirectory()
        let journal = try Journal(directory: directory.path, maxSpoolBytes: 1 << 20, nowNanos: 1)
        let epoch = await journal.nextBatch.epoch
        let before = await journal.spoolSnapshot(after: 0, limit: 0)
        let waiter = Task {
            await journal.waitForChange(after: before.change)
            return await journal.spoolSnapshot(after: 0, limit: 10).sequences == [1]
        }
        try await Task.sleep(for: .milliseconds(50))
        try await journal.commit(try Self.batch(1, epoch: epoch), tailer: TailerState())
        #expect(await Self.firstOf(seconds: 10) { await waiter.value } == true, "woken, and the batch is there")
    }

    /// Cancellation ends the wait: the shipper's tasks end with their connection instead of lingering until the
    /// next batch.
    @Test(arguments: [0, 50])
    func cancellingAWaiterEndsItsWait(_ delayMilliseconds: Int) async throws {
        let directory = try TempDirectory()
        let journal = try Journal(directory: directory.path, maxSpoolBytes: 1 << 20, nowNanos: 1)
        let before = await journal.spoolSnapshot(after: 0, limit: 0)
        let waiter = Task {
            await journal.waitForChange(after: before.change)
            return Task.isCancelled
        }
        try await Task.sleep(for: .milliseconds(delayMilliseconds))
        waiter.cancel()
        let ended = await Self.firstOf(seconds: 10) { await waiter.value }
        #expect(ended == true, "the wait ended, because it was cancelled")
        #expect(await journal.spoolSnapshot(after: 0, limit: 0).change == before.change, "nothing changed")
    }

    /// `operation`'s result, or nil after `seconds`: a wait that ignores cancellation fails the test instead of
    /// hanging it (the stuck task is left behind).
    private static func firstOf(seconds: Int, _ operation: @escaping @Sendable () async -> Bool) async -> Bool? {
        let (results, continuation) = AsyncStream.makeStream(of: Bool?.self)
        let work = Task { continuation.yield(await operation()) }
        let timer = Task {
            try? await Task.sleep(for: .seconds(seconds))
            continuation.yield(nil)
        }
        defer {
            work.cancel()
            timer.cancel()
        }
        for await result in results { return result }
        return nil
    }
}
