import Crypto
import FlightlogWire
import Testing

/// The proof of key possession (PROTOCOL.md §4.3).
struct HandshakeTests {
    @Test func proofMessageLayout() {
        let message = Handshake.proofMessage(
            nonce: Fixtures.nonce,
            publicKey: Fixtures.agentPublicKey,
            epoch: 0x0102_0304_0506_0708
        )
        #expect(message.count == 95)
        #expect(Array(message[0..<23]) == Array("FLIGHTLOG-HANDSHAKE-V1".utf8) + [0])
        #expect(Array(message[23..<55]) == Fixtures.nonce.bytes)
        #expect(Array(message[55..<87]) == Fixtures.agentPublicKey.bytes)
        #expect(Array(message[87..<95]) == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test("a proof verifies only for its own nonce, key and epoch")
    func proofBinds() throws {
        let message = Handshake.proofMessage(
            nonce: Fixtures.nonce,
            publicKey: Fixtures.agentPublicKey,
            epoch: Fixtures.epoch
        )
        let signature = try Fixtures.agentKey.signature(for: message)
        let key = Fixtures.agentKey.publicKey
        #expect(key.isValidSignature(signature, for: message))
        let otherNonce = Handshake.proofMessage(nonce: .zero, publicKey: Fixtures.agentPublicKey, epoch: Fixtures.epoch)
        #expect(!key.isValidSignature(signature, for: otherNonce))
        let otherEpoch = Handshake.proofMessage(
            nonce: Fixtures.nonce,
            publicKey: Fixtures.agentPublicKey,
            epoch: Fixtures.epoch + 1
        )
        #expect(!key.isValidSignature(signature, for: otherEpoch))
        #expect(!Fixtures.otherKey.publicKey.isValidSignature(signature, for: message))
    }
}
