import Crypto
public import FlightlogWire
import Foundation

/// A checkpoint of the transparency log in the C2SP `tlog-checkpoint` format, as a C2SP `signed-note`.
///
/// ```
/// flightlog.aggregator/3f9c0a17d2b4e681          origin: names the log (and here, its key)
/// 1234                                           tree size, decimal
/// 9nSwW2sY3eR0m0L1fJ2m6zH8g0O3b9bQ0o3kqC0k1yU=   root hash, standard base64
///                                                blank line ends the note's text
/// — flightlog.aggregator/3f9c… q0nV…             "— " name, base64(key hash (4) ‖ Ed25519 signature (64))
/// ```
///
/// The signature covers the text (the first three lines with their newlines). The key hash is the first four bytes
/// of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key), 0x01 being signed-note's Ed25519 algorithm byte.
public struct Checkpoint: Equatable, Sendable {
    public var origin: String
    public var size: UInt64
    public var rootHash: Bytes32

    public init(origin: String, size: UInt64, rootHash: Bytes32) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
    }

    /// The note text the signature covers.
    public var text: String {
        "\(self.origin)\n\(self.size)\n\(Data(self.rootHash.bytes).base64EncodedString())\n"
    }
}
