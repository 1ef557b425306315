/// The bytes an agent signs to prove it holds its key (PROTOCOL.md §4.3).
public enum Handshake {
    /// Domain-separation context of the proof signature: ASCII `FLIGHTLOG-HANDSHAKE-V1` and one zero byte.
    public static let proofContext: [UInt8] = Array("FLIGHTLOG-HANDSHAKE-V1".utf8) + [0]

    /// `context ‖ nonce (32) ‖ agent public key (32) ‖ epoch (u64, big-endian)`: 95 bytes.
    public static func proofMessage(nonce: Bytes32, publicKey: Bytes32, epoch: UInt64) -> [UInt8] {
        var message = Self.proofContext
        message.reserveCapacity(Self.proofContext.count + 72)
        message += nonce.bytes
        message += publicKey.bytes
        withUnsafeBytes(of: epoch.bigEndian) { message += $0 }
        return message
    }
}
