import Crypto
public import FlightlogWire
import Foundation

/// What an operator gives to enrol an agent, checked the same way by every storage engine.
public enum EnrolmentInput {
    /// The agent name trimmed of spaces, or the refusal: 1 to 255 bytes, no NUL.
    public static func name(_ name: String) throws(StoreError) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.count <= WireLimits.maxAgentNameLength, !trimmed.utf8.contains(0) else {
            throw StoreError.invalidPublicKey("the agent name must be 1 to 255 bytes")
        }
        return trimmed
    }

    /// The raw key and its key id from the standard base64 of the 32 raw bytes, or the refusal: not base64, not 32
    /// bytes, or a key anyone could sign for (small order, not canonical).
    public static func publicKey(_ base64: String) throws(StoreError) -> (raw: Bytes32, keyID: Bytes32) {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw StoreError.invalidPublicKey("not base64")
        }
        let key: Curve25519.Signing.PublicKey
        do {
            key = try Ed25519.publicKey(data)
        } catch {
            throw StoreError.invalidPublicKey("\(error)")
        }
        guard let raw = Bytes32(data) else {
            throw StoreError.invalidPublicKey("\(Ed25519.Defect.keyLength(data.count))")
        }
        return (raw, KeyID.of(key))
    }
}
