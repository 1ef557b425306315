import Crypto
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

@testable import FlightlogAgent

/// `chain.json` is a file any root process, a restore from backup or a failing disk can change: values outside what
/// the agent writes are refused with a message that says what to do, never trapped on.
@Suite("The agent's state file holds values the agent never wrote")
struct StateFileTests {
    private func write(nextSequence: UInt64, to directory: String) throws {
        var state = ChainState(epoch: 7, createdNanos: 1)
        state.nextSequence = nextSequence
        let data = try JSONEncoder().encode(state)
        try data.write(to: URL(fileURLWithPath: directory + "/chain.json"))
    }

    @Test(arguments: [UInt64(0), .max])
    func aNextSequenceWithoutANextIsRefused(_ next: UInt64) throws {
        let directory = try TempDirectory()
        try self.write(nextSequence: next, to: directory.path)
        do {
            _ = try Journal(directory: directory.path, maxSpoolBytes: 1 << 20, nowNanos: 1)
            Issue.record("nextSequence \(next) was accepted")
        } catch {
            #expect("\(error)".contains("nextSequence \(next) is outside"), "\(error)")
            #expect("\(error)".contains("move it away"), "\(error)")
        }
    }

    @Test(arguments: [UInt64(1), UInt64(1) << 63, UInt64.max - 1])
    func everyOtherNextSequenceOpens(_ next: UInt64) throws {
        let directory = try TempDirectory()
        try self.write(nextSequence: next, to: directory.path)
        _ = try Journal(directory: directory.path, maxSpoolBytes: 1 << 20, nowNanos: 1)
    }

    /// A negative fingerprint length (a cursor edited by hand) matched nothing instead of trapping in `prefix(_:)`.
    @Test(arguments: [Int.min, -1, 0, Fingerprint.maxLength])
    func aFingerprintOfAnyLengthMatchesWithoutTrapping(_ length: Int) {
        let saved = Fingerprint(hex: String(repeating: "0", count: 64), length: length)
        #expect(!saved.matches(Array(repeating: 0x61, count: Fingerprint.maxLength)))
    }

    /// 2^64 − 2 opens and builds its batch; the batch after it would need a sequence past 2^64 − 1, and is refused
    /// with a message instead of trapping on the increment.
    @Test func theLastSequenceIsRefusedAtCommitInsteadOfTrapping() async throws {
        let directory = try TempDirectory()
        try self.write(nextSequence: .max - 1, to: directory.path)
        let journal = try Journal(directory: directory.path, maxSpoolBytes: 1 << 20, nowNanos: 1)
        let key = Curve25519.Signing.PrivateKey()
        func batch(_ sequence: UInt64) throws -> SignedBatch {
            let event = Event(timeNanos: 1, observedNanos: 1, host: "h", source: "s", line: [0x61], fields: [])
            return try SignedBatch.build(
                events: [event],
                header: BatchHeader(
                    keyID: KeyID.of(key.publicKey),
                    epoch: 7,
                    sequence: sequence,
                    previousHash: .zero,
                    createdNanos: 1,
                    events: [event]
                ),
                signingKey: key
            )
        }
        try await journal.commit(try batch(.max - 1), tailer: TailerState())
        await #expect(throws: AgentError.self) { try await journal.commit(try batch(.max), tailer: TailerState()) }
    }
}
