import Crypto
import FlightlogAggregator
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Testing

@testable import FlightlogStore

/// A key of small order enrolled by an earlier release (PROTOCOL.md §1.1) does not let a peer that holds no private
/// key through the handshake. (Enrolment refusing such keys, and `verify` reporting one: `ForgeableKeyTests` in the
/// store's tests.)
@Suite("Keys anyone could sign for, at the handshake")
struct ForgeableKeyHandshakeTests {
    @Test func aPeerWithoutAPrivateKeyCannotPassTheHandshakeForAnIdentityKeyEnrolledEarlier() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        _ = try SQLiteStore(path: path)
        _ = try ForgeableKey.enrollIdentityByHand(path)
        try await withServer(database: path) { port, _, metrics in
            let connection = try await TestConnection.connect(port: port)
            try await connection.send(
                .hello(Hello(publicKey: ForgeableKey.identity, epoch: 1, agentTimeNanos: 0, agentName: "forger"))
            )
            guard case .challenge(let challenge) = try await connection.receive() else {
                throw TestFailure("no CHALLENGE")
            }
            // The forgery verifies under swift-crypto alone: this is what the handshake accepted before.
            let message = Handshake.proofMessage(nonce: challenge.nonce, publicKey: ForgeableKey.identity, epoch: 1)
            let key = try Curve25519.Signing.PublicKey(rawRepresentation: ForgeableKey.identity.bytes)
            #expect(key.isValidSignature(ForgeableKey.forgedSignature, for: message))
            try await connection.send(.proof(Proof(signature: ForgeableKey.forgedSignature)))
            #expect(errorCode(try await connection.receive()) == .badProof)
            try await connection.waitClosed()
            #expect(metrics["handshakes_accepted"] == 0)
        }
    }
}
