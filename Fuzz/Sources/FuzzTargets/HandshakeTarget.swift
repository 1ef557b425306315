import Crypto
public import FlightlogWire
import NIOCore

/// The handshake as the aggregator receives it (PROTOCOL.md §4): frames up to the handshake limit, and the checks
/// made on what they carry: HELLO's key, PROOF's signature over the challenge, ENROLL's signature over its token,
/// ROTATE's record and its two signatures.
///
/// Input: the agent's byte stream, whole. Frames decode in order until the first error. The key and epoch of the
/// last HELLO are what PROOF and ENROLL are checked against, with a fixed nonce (the worked example's).
public enum HandshakeTarget {
    /// The nonce of PROTOCOL.md §11's worked example, so that its PROOF verifies when the seed is that session.
    static let nonce = Bytes32((0xa0...0xbf).map { UInt8($0) }) ?? .zero

    public static func run(_ data: UnsafeRawBufferPointer) {
        var parser = FrameParser(maxFrameLength: WireLimits.maxHandshakeFrameLength)
        var buffer = ByteBuffer(bytes: data)
        var consumed = StreamPosition(stream: Array(data))
        var hello: Hello?
        while true {
            let frame: Frame?
            do {
                frame = try parser.nextFrame(buffer: &buffer)
            } catch {
                return
            }
            guard let frame else { return }
            consumed.check(frame)
            switch frame {
            case .hello(let received):
                hello = received
                if received.version >= ProtocolVersion.first, received.version <= ProtocolVersion.current {
                    _ = try? Ed25519.publicKey(received.publicKey.bytes)
                }
            case .proof(let proof):
                guard let hello, let key = try? Ed25519.publicKey(hello.publicKey.bytes) else { continue }
                let message = Handshake.proofMessage(nonce: Self.nonce, publicKey: hello.publicKey, epoch: hello.epoch)
                _ = Ed25519.isValidSignature(proof.signature, for: message, publicKey: key)
            case .enroll(let enroll):
                guard let hello, let key = try? Ed25519.publicKey(hello.publicKey.bytes) else { continue }
                let message = Handshake.enrolmentMessage(
                    nonce: Self.nonce,
                    publicKey: hello.publicKey,
                    epoch: hello.epoch,
                    token: enroll.token
                )
                _ = Ed25519.isValidSignature(enroll.signature, for: message, publicKey: key)
            case .rotate(let record):
                _ = record.signatureProblem
                invariant((try? RotationRecord(bytes: record.bytes)) == record, "ROTATE record does not round-trip")
            default:
                continue
            }
        }
    }
}
