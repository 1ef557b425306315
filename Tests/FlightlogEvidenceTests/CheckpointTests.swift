import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import Testing

@Suite("C2SP signed-note checkpoints")
struct CheckpointTests {
    let signer = CheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())

    func checkpoint(size: UInt64 = 7) -> Checkpoint {
        Checkpoint(origin: self.signer.verifier.name, size: size, rootHash: MerkleTree.leafHash([1, 2, 3]))
    }

    @Test func noteHasTheC2SPShape() throws {
        let note = try self.signer.sign(self.checkpoint()).note
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 6)
        #expect(lines[0] == Substring(self.signer.verifier.name))
        #expect(lines[1] == "7")
        #expect(lines[2] == Substring(Data(MerkleTree.leafHash([1, 2, 3]).bytes).base64EncodedString()))
        #expect(lines[3].isEmpty)
        #expect(lines[4].hasPrefix("\u{2014} \(self.signer.verifier.name) "))
        let blob = try #require(Data(base64Encoded: String(lines[4].split(separator: " ")[2])))
        #expect(blob.count == 68)
        // The key hash: SHA-256(name ‖ "\n" ‖ 0x01 ‖ key), first four bytes.
        let material =
            Array(self.signer.verifier.name.utf8) + [0x0a, 0x01]
            + Array(self.signer.privateKey.publicKey.rawRepresentation)
        #expect(Array(blob.prefix(4)) == Array(Array(SHA256.hash(data: material)).prefix(4)))
        #expect(lines[5].isEmpty)
    }

    @Test func signedNoteVerifiesAndRoundTrips() throws {
        let signed = try self.signer.sign(self.checkpoint())
        let parsed = try SignedCheckpoint(note: signed.note)
        #expect(parsed == signed)
        try parsed.verify(self.signer.verifier)
    }

    @Test func alteredOrForeignNotesDoNotVerify() throws {
        let signed = try self.signer.sign(self.checkpoint())
        var altered = signed
        altered.checkpoint.size = 8
        #expect(throws: EvidenceError.badSignature) { try altered.verify(self.signer.verifier) }
        let other = CheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())
        #expect(throws: EvidenceError.self) { try signed.verify(other.verifier) }
        // Same name and key hash, signed by another key.
        let signature = Array(try other.privateKey.signature(for: Array(self.checkpoint().text.utf8)))
        let forged = SignedCheckpoint(
            checkpoint: self.checkpoint(),
            signatures: [
                .init(name: self.signer.verifier.name, keyHash: self.signer.verifier.keyHash, signature: signature)
            ]
        )
        #expect(throws: EvidenceError.badSignature) { try forged.verify(self.signer.verifier) }
    }

    @Test func verifierKeyRoundTrips() throws {
        let text = self.signer.verifier.verifierKey
        #expect(text.hasPrefix(self.signer.verifier.name + "+"))
        #expect(try CheckpointVerifier(verifierKey: text) == self.signer.verifier)
        #expect(throws: EvidenceError.self) { try CheckpointVerifier(verifierKey: "nonsense") }
    }

    @Test func fileOfNotesParsesEachNote() throws {
        let a = try self.signer.sign(self.checkpoint(size: 3)).note
        let b = try self.signer.sign(self.checkpoint(size: 9)).note
        let parsed = SignedCheckpoint.parseFile(a + "\n" + b + "\n" + "garbage line\n\nmore\n")
        #expect(parsed.count == 3)
        #expect((try? parsed[0].get())?.checkpoint.size == 3)
        #expect((try? parsed[1].get())?.checkpoint.size == 9)
        if case .success = parsed[2] { Issue.record("garbage parsed as a checkpoint") }
    }

    @Test(arguments: ["", "origin\n1\n", "o\nx\nAAAA\n\n— o AAAA\n", "o\n1\nAAAA\n\n— o AAAA\n"])
    func malformedNotesAreRefused(note: String) {
        #expect(throws: EvidenceError.self) { try SignedCheckpoint(note: note) }
    }
}
