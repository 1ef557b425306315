public import Crypto
import NIOCore

/// Agent key identifiers.
public enum KeyID {
    /// SHA-256 of the raw 32-byte Ed25519 public key.
    public static func of(_ publicKey: Curve25519.Signing.PublicKey) -> Bytes32 {
        Bytes32(unchecked: Array(SHA256.hash(data: publicKey.rawRepresentation)))
    }

    /// SHA-256 of a raw 32-byte public key.
    public static func of(publicKeyBytes: Bytes32) -> Bytes32 {
        Bytes32(unchecked: Array(SHA256.hash(data: publicKeyBytes.bytes)))
    }
}
