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
        let directory = try TemporaryDirectory()
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
        let directory = try TemporaryDirectory()
        try self.write(nextSequence: next, to: directory.path)
        _ = try Journal(directory: directory.path, maxSpoolBytes: 1 << 20, nowNanos: 1)
    }

    /// A negative fingerprint length (a cursor edited by hand) matched nothing instead of trapping in `prefix(_:)`.
    @Test(arguments: [Int.min, -1, 0, Fingerprint.maxLength])
    func aFingerprintOfAnyLengthMatchesWithoutTrapping(_ length: Int) {
        let saved = Fingerprint(hex: String(repeating: "0", count: 64), length: length)
        #expect(!saved.matches(Array(repeating: 0x61, count: Fingerprint.maxLength)))
    }
}
