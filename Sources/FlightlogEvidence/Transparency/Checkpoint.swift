public import Crypto
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

/// A checkpoint with its signature lines, parsed from or written as note text.
public struct SignedCheckpoint: Equatable, Sendable {
    /// One `— name base64` line.
    public struct Signature: Equatable, Sendable {
        public var name: String
        public var keyHash: UInt32
        public var signature: [UInt8]

        public init(name: String, keyHash: UInt32, signature: [UInt8]) {
            self.name = name
            self.keyHash = keyHash
            self.signature = signature
        }
    }

    public var checkpoint: Checkpoint
    public var signatures: [Signature]

    /// The whole note: text, blank line, signature lines.
    public var note: String {
        var out = self.checkpoint.text + "\n"
        for signature in self.signatures {
            var blob: [UInt8] = []
            for shift in stride(from: 24, through: 0, by: -8) {
                blob.append(UInt8(truncatingIfNeeded: signature.keyHash >> UInt32(shift)))
            }
            blob += signature.signature
            out += "\u{2014} \(signature.name) \(Data(blob).base64EncodedString())\n"
        }
        return out
    }

    /// Parses one note. Extension lines after the root hash are refused: Flightlog writes none.
    public init(note: String) throws(CheckpointError) {
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 6, lines[3].isEmpty else {
            throw CheckpointError.malformed("not a signed checkpoint note")
        }
        guard !lines[0].isEmpty, let size = UInt64(lines[1]), String(size) == lines[1] else {
            throw CheckpointError.malformed("bad origin or tree size line")
        }
        guard let rootData = Data(base64Encoded: lines[2]), let root = Bytes32(rootData) else {
            throw CheckpointError.malformed("root hash is not 32 bytes of base64")
        }
        var signatures: [Signature] = []
        for line in lines[4...] where !line.isEmpty {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "\u{2014}", let blob = Data(base64Encoded: String(parts[2])),
                blob.count == 4 + 64
            else { throw CheckpointError.malformed("bad signature line") }
            let bytes = Array(blob)
            let hash = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            signatures.append(Signature(name: String(parts[1]), keyHash: hash, signature: Array(bytes[4...])))
        }
        guard !signatures.isEmpty else { throw CheckpointError.malformed("no signature line") }
        self.checkpoint = Checkpoint(origin: lines[0], size: size, rootHash: root)
        self.signatures = signatures
    }

    public init(checkpoint: Checkpoint, signatures: [Signature]) {
        self.checkpoint = checkpoint
        self.signatures = signatures
    }

    /// Throws unless a signature line by `verifier` verifies and the origin is the verifier's.
    public func verify(_ verifier: CheckpointVerifier) throws(CheckpointError) {
        guard self.checkpoint.origin == verifier.name else {
            throw CheckpointError.wrongOrigin(expected: verifier.name, found: self.checkpoint.origin)
        }
        let text = Array(self.checkpoint.text.utf8)
        for signature in self.signatures where signature.name == verifier.name && signature.keyHash == verifier.keyHash
        {
            if Ed25519.isValidSignature(signature.signature, for: text, publicKey: verifier.publicKey) { return }
        }
        throw CheckpointError.badSignature
    }

    /// Splits a file of notes (as `flightlog checkpoint --out` appends them: each note followed by a blank line).
    public static func parseFile(_ text: String) -> [Result<SignedCheckpoint, CheckpointError>] {
        var results: [Result<SignedCheckpoint, CheckpointError>] = []
        var current: [String] = []
        var inSignatures = false
        func flush() {
            defer {
                current = []
                inSignatures = false
            }
            guard !current.isEmpty else { return }
            let note = current.joined(separator: "\n") + "\n"
            do throws(CheckpointError) { results.append(.success(try SignedCheckpoint(note: note))) } catch {
                results.append(.failure(error))
            }
        }
        // A note is text, one blank line, signature lines; the next blank line ends it.
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.isEmpty {
                if current.isEmpty { continue }
                if inSignatures {
                    flush()
                } else {
                    inSignatures = true
                    current.append(line)
                }
            } else {
                current.append(line)
            }
        }
        flush()
        return results
    }
}

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
    public init(verifierKey: String) throws(CheckpointError) {
        let parts = verifierKey.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2)
        guard parts.count == 3, let blob = Data(base64Encoded: String(parts[2])), blob.count == 33, blob.first == 1,
            let key = try? Ed25519.publicKey(blob.dropFirst())
        else { throw CheckpointError.malformed("not an Ed25519 verifier key (name+hash+base64)") }
        self.init(publicKey: key)
        guard self.name == String(parts[0]), String(format: "%08x", self.keyHash) == String(parts[1]) else {
            throw CheckpointError.malformed("verifier key name or hash does not match its key")
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

/// Why a checkpoint or its key could not be used.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is not a signed checkpoint note, or a key is not in the expected form.
    case malformed(String)
    /// The note names another log.
    case wrongOrigin(expected: String, found: String)
    /// No signature line verifies under the trusted key.
    case badSignature
    /// The key file could not be read or created.
    case keyFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed checkpoint: \(why)"
        case .wrongOrigin(let expected, let found): "checkpoint origin '\(found)' is not this log's '\(expected)'"
        case .badSignature: "checkpoint signature does not verify under the aggregator key"
        case .keyFile(let path, let reason): "aggregator key \(path): \(reason)"
        }
    }
}
