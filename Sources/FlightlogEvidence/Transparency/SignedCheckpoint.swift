import Crypto
import FlightlogWire
import Foundation

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
    public init(note: String) throws(EvidenceError) {
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 6, lines[3].isEmpty else {
            throw EvidenceError.malformed("not a signed checkpoint note")
        }
        guard !lines[0].isEmpty, let size = UInt64(lines[1]), String(size) == lines[1] else {
            throw EvidenceError.malformed("bad origin or tree size line")
        }
        guard let rootData = Data(base64Encoded: lines[2]), let root = Bytes32(rootData) else {
            throw EvidenceError.malformed("root hash is not 32 bytes of base64")
        }
        var signatures: [Signature] = []
        for line in lines[4...] where !line.isEmpty {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "\u{2014}", let blob = Data(base64Encoded: String(parts[2])),
                blob.count == 4 + 64
            else { throw EvidenceError.malformed("bad signature line") }
            let bytes = Array(blob)
            let hash = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            signatures.append(Signature(name: String(parts[1]), keyHash: hash, signature: Array(bytes[4...])))
        }
        guard !signatures.isEmpty else { throw EvidenceError.malformed("no signature line") }
        self.checkpoint = Checkpoint(origin: lines[0], size: size, rootHash: root)
        self.signatures = signatures
    }

    public init(checkpoint: Checkpoint, signatures: [Signature]) {
        self.checkpoint = checkpoint
        self.signatures = signatures
    }

    /// Throws unless a signature line by `verifier` verifies and the origin is the verifier's.
    public func verify(_ verifier: CheckpointVerifier) throws(EvidenceError) {
        guard self.checkpoint.origin == verifier.name else {
            throw EvidenceError.wrongOrigin(expected: verifier.name, found: self.checkpoint.origin)
        }
        let text = Array(self.checkpoint.text.utf8)
        for signature in self.signatures where signature.name == verifier.name && signature.keyHash == verifier.keyHash
        {
            if Ed25519.isValidSignature(signature.signature, for: text, publicKey: verifier.publicKey) { return }
        }
        throw EvidenceError.badSignature
    }

    /// Splits a file of notes (as `flightlog checkpoint --out` appends them: each note followed by a blank line).
    public static func parseFile(_ text: String) -> [Result<SignedCheckpoint, EvidenceError>] {
        var results: [Result<SignedCheckpoint, EvidenceError>] = []
        var current: [String] = []
        var inSignatures = false
        func flush() {
            defer {
                current = []
                inSignatures = false
            }
            guard !current.isEmpty else { return }
            let note = current.joined(separator: "\n") + "\n"
            do throws(EvidenceError) { results.append(.success(try SignedCheckpoint(note: note))) } catch {
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
