public import Crypto
import FlightlogWire
import Foundation

/// The aggregator's checkpoint signing key: an Ed25519 key with a signed-note name.
public struct CheckpointSigner: Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey
    public let verifier: CheckpointVerifier

    public init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
        self.verifier = CheckpointVerifier(publicKey: privateKey.publicKey)
    }

    /// Signs `checkpoint` (whose origin must be this key's name).
    public func sign(_ checkpoint: Checkpoint) throws -> SignedCheckpoint {
        let signature = try self.privateKey.signature(for: Array(checkpoint.text.utf8))
        return SignedCheckpoint(
            checkpoint: checkpoint,
            signatures: [.init(name: self.verifier.name, keyHash: self.verifier.keyHash, signature: Array(signature))]
        )
    }
}
