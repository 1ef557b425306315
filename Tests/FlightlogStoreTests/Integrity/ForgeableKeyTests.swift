import Crypto
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// Public keys of small order (PROTOCOL.md §1.1): with one, a signature verifies under swift-crypto alone whatever
/// the message, so a peer holding no private key could pass the handshake and have forged batches stored.
@Suite("Keys anyone could sign for")
struct ForgeableKeyTests {
    /// Keys of each refused class, as `flightlog enroll` receives them (base64).
    static let refused: [(String, String)] = [
        ("the all-zero key (order 4)", String(repeating: "00", count: 32)),
        ("the identity (order 1)", "01" + String(repeating: "00", count: 31)),
        ("order 2", "ec" + String(repeating: "ff", count: 30) + "7f"),
        ("order 8", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        ("order 8, negated", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
        ("y = p, not canonical", "ed" + String(repeating: "ff", count: 30) + "7f"),
        ("x = 0 with the sign bit set", "01" + String(repeating: "00", count: 30) + "80"),
    ]

    @Test func enrolmentRefusesKeysOfSmallOrderAndNonCanonicalEncodings() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let store = try SQLiteStore(path: dir.file("db.sqlite"))
        for (index, (what, hex)) in Self.refused.enumerated() {
            let base64 = Data(try #require([UInt8](hex: hex))).base64EncodedString()
            do {
                try await store.enroll(name: "ws-\(index)", publicKeyBase64: base64, atNanos: 1)
                Issue.record("\(what) was enrolled")
            } catch {
                let text = "\(error)"
                #expect(text.contains("small order") || text.contains("not canonically encoded"), "\(what): \(text)")
            }
        }
        // A genuine key still enrols.
        let agent = TestAgent(name: "ws-genuine")
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
    }

    @Test func verifyReportsAForgeableKeyAlreadyEnrolledAndEveryBatchItSigned() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let store = try SQLiteStore(path: path)
        let agentID = try ForgeableKey.enrollIdentityByHand(path)
        // Two forged batches, stored as an earlier release stored them after its handshake and signature check.
        let forger = TestAgent(name: "ws-forged")
        let events = forger.events(2, prefix: "forged")
        for batch in try ForgeableKey.forgedChain(forger, count: 2) {
            let key = try Curve25519.Signing.PublicKey(rawRepresentation: ForgeableKey.identity.bytes)
            #expect(key.isValidSignature(batch.signature, for: batch.signedMessage), "the forgery works on its own")
            #expect(throws: WireError.badSignature) { try batch.verifySignature(publicKey: key) }
            let outcomes = try await store.ingest([
                try IngestItem(agentID: agentID, batch: batch, events: events, receivedNanos: nowNanos())
            ])
            #expect(outcomes == [.stored])
        }
        try await store.drainFullTextIndex()
        let report = try await store.verify(VerifyOptions(mode: .full, verifier: nil, nowNanos: nowNanos()))
        let forgeable = report.findings.filter { $0.kind == .forgeableKey }
        #expect(forgeable.count == 1)
        #expect(forgeable.first?.agent == "ws-forged")
        #expect(forgeable.first?.detail.contains("small order") == true, "\(forgeable)")
        let signatures = report.findings.filter { $0.kind == .badSignature }
        #expect(signatures.map(\.sequence) == [1, 2])
        #expect(signatures.allSatisfy { $0.detail.contains("proves nothing") }, "\(signatures)")
    }
}
