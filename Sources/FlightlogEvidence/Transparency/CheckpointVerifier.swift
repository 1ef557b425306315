public import Crypto
import FlightlogWire
import Foundation

/// A checkpoint verifier key: the public half, its signed-note name and key hash.
public struct CheckpointVerifier: Sendable, Equatable {
    public let publicKey: Curve25519.Signing.PublicKey
    /// `flightlog.aggregator/` and the first 16 hex digits of SHA-256 of the public key; also the log's origin.
    public let name: String
    public let keyHash: UInt32

    public init(publicKey: Curve25519.Signing.PublicKey) {
        self.publicKey = publicKey
        self.name = "flightlog.aggregator/" + String(KeyID.of(publicKey).hex.prefix(16))
        self.keyHash = Self.keyHash(name: self.name, publicKey: publicKey)
    }

    /// Parses a signed-note verifier key, `name+hash+base64(0x01 ‖ key)`.
    public init(verifierKey: String) throws(EvidenceError) {
        let parts = verifierKey.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2)
        guard parts.count == 3, let blob = Data(base64Encoded: String(parts[2])), blob.count == 33, blob.first == 1,
            let key = try? Ed25519.publicKey(blob.dropFirst())
        else { throw EvidenceError.malformed("not an Ed25519 verifier key (name+hash+base64)") }
        self.init(publicKey: key)
        guard self.name == String(parts[0]), String(format: "%08x", self.keyHash) == String(parts[1]) else {
            throw EvidenceError.malformed("verifier key name or hash does not match its key")
        }
    }

    /// `name+hash+base64(0x01 ‖ key)`, the form to copy off the machine with the checkpoints.
    public var verifierKey: String {
        "\(self.name)+\(String(format: "%08x", self.keyHash))+\(Data([1] + self.publicKey.rawRepresentation).base64EncodedString())"
    }

    static func keyHash(name: String, publicKey: Curve25519.Signing.PublicKey) -> UInt32 {
        let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0a, 0x01] + Array(publicKey.rawRepresentation)))
        return digest[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    public static func == (lhs: CheckpointVerifier, rhs: CheckpointVerifier) -> Bool {
        lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }
}
