import Crypto
public import FlightlogEvidence
import Foundation
import Glibc

/// The aggregator's checkpoint key on disk: one line of base64 (the 32-byte Ed25519 seed), mode 0600, created on
/// first use, with the verifier key written next to it (`PATH.pub`, mode 0644) for copying off the machine.
public enum AggregatorKeyFile {
    /// The key file used when none is given: `flightlog-aggregator.key` in the database's directory.
    public static func defaultPath(database: String) -> String {
        let directory = (database as NSString).deletingLastPathComponent
        return (directory.isEmpty ? "." : directory) + "/flightlog-aggregator.key"
    }

    /// Loads the key at `path`, creating it (and `PATH.pub`) when there is no file yet.
    public static func loadOrCreate(_ path: String) throws(EvidenceError) -> CheckpointSigner {
        if FileManager.default.fileExists(atPath: path) { return try Self.load(path) }
        let key = Curve25519.Signing.PrivateKey()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            // Another process created it first: use theirs.
            if errno == EEXIST { return try Self.load(path) }
            throw EvidenceError.keyFile(path: path, reason: String(cString: strerror(errno)))
        }
        let line = Array((key.rawRepresentation.base64EncodedString() + "\n").utf8)
        let written = line.withUnsafeBytes { raw -> Int in
            guard let base = raw.baseAddress else { return -1 }
            return write(fd, base, raw.count)
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == line.count, synced else {
            throw EvidenceError.keyFile(path: path, reason: "could not write the new key")
        }
        let signer = CheckpointSigner(privateKey: key)
        let pub = Data((signer.verifier.verifierKey + "\n").utf8)
        _ = FileManager.default.createFile(atPath: path + ".pub", contents: pub, attributes: [.posixPermissions: 0o644])
        return signer
    }

    /// Loads an existing private key file.
    public static func load(_ path: String) throws(EvidenceError) -> CheckpointSigner {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvidenceError.keyFile(path: path, reason: "cannot read it")
        }
        guard data.count <= 4096 else { throw EvidenceError.keyFile(path: path, reason: "too large for a key file") }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let raw = Data(base64Encoded: text), raw.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw EvidenceError.keyFile(path: path, reason: "not an aggregator key (one base64 line of 32 bytes)")
        }
        return CheckpointSigner(privateKey: key)
    }

    /// The verifier to trust, from a private key file or a verifier key file (`name+hash+base64`, as in `PATH.pub`).
    public static func loadVerifier(_ path: String) throws(EvidenceError) -> CheckpointVerifier {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 4096 else {
            throw EvidenceError.keyFile(path: path, reason: "cannot read it")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if let verifier = try? CheckpointVerifier(verifierKey: text) { return verifier }
        return try Self.load(path).verifier
    }
}
