import Crypto
import FlightlogWire
import NIOCore

/// The checks a batch must pass before it may reach the store, in the order of PROTOCOL.md §7.
///
/// Pure: no database, no clock. The signature is verified before anything is inflated.
struct BatchVerifier: Sendable {
    /// Why a batch was refused, with the code sent to the agent.
    struct Rejection: Error, Equatable {
        var code: ErrorCode
        var sequence: UInt64
        var message: String
    }

    let publicKey: Curve25519.Signing.PublicKey
    let keyID: Bytes32
    let epoch: UInt64

    init(publicKey: Curve25519.Signing.PublicKey, epoch: UInt64) {
        self.publicKey = publicKey
        self.keyID = KeyID.of(publicKey)
        self.epoch = epoch
    }

    /// The envelope, its key, epoch and signature: everything but the payload, which stays compressed.
    func check(_ body: ByteBuffer) -> Result<SignedBatch, Rejection> {
        let batch: SignedBatch
        do {
            batch = try SignedBatch(buffer: body)
        } catch {
            // The sequence is named whenever the body reaches it, even when the envelope is malformed (§7.5).
            return .failure(
                Rejection(
                    code: .malformedBatch,
                    sequence: SignedBatch.sequence(namedBy: body),
                    message: "batch envelope: \(error)"
                )
            )
        }
        guard batch.keyID == self.keyID else {
            return .failure(
                Rejection(code: .keyMismatch, sequence: batch.sequence, message: "batch names another agent key")
            )
        }
        guard batch.epoch == self.epoch else {
            return .failure(
                Rejection(
                    code: .wrongEpoch,
                    sequence: batch.sequence,
                    message: "batch epoch \(batch.epoch) is not the session's epoch \(self.epoch)"
                )
            )
        }
        do {
            try batch.verifySignature(publicKey: self.publicKey)
        } catch {
            return .failure(
                Rejection(code: .badSignature, sequence: batch.sequence, message: "signature does not verify")
            )
        }
        return .success(batch)
    }

    /// Inflates the payload of a checked batch and locates its events (with every check decoding them makes).
    func decode(_ batch: SignedBatch) -> Result<EventLayout, Rejection> {
        do {
            return .success(try batch.decodeLayout())
        } catch {
            return .failure(
                Rejection(code: .malformedBatch, sequence: batch.sequence, message: "batch payload: \(error)")
            )
        }
    }
}
