public import Crypto
import Foundation
import Glibc

/// The agent's Ed25519 private key on disk: one line of base64 (the 32-byte seed), mode 0600.
public enum KeyFile {
    /// Creates a new key at `path`; refuses to overwrite an existing file. Returns the public key.
    public static func generate(at path: String) throws(AgentError) -> Curve25519.Signing.PublicKey {
        try Self.generate(privateKeyAt: path).publicKey
    }

    /// Creates a new key at `path` (mode 0600, synced); refuses to overwrite an existing file.
    public static func generate(privateKeyAt path: String) throws(AgentError) -> Curve25519.Signing.PrivateKey {
        let key = Curve25519.Signing.PrivateKey()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw AgentError.keyExists(path: path) }
            throw AgentError.io(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let line = Array((key.rawRepresentation.base64EncodedString() + "\n").utf8)
        let written = line.withUnsafeBytes { raw -> Int in
            guard let base = raw.baseAddress else { return -1 }
            return write(fd, base, raw.count)
        }
        guard written == line.count, fsync(fd) == 0 else {
            throw AgentError.io(path: path, reason: String(cString: strerror(errno)))
        }
        return key
    }

    /// Loads the key at `path`.
    public static func load(_ path: String) throws(AgentError) -> Curve25519.Signing.PrivateKey {
        guard let bytes = try DurableFile.read(path, limit: 4096) else {
            throw AgentError.badKey(
                path: path,
                reason: "no such file (create one with `flightlog-agent keygen --key \(path)`)"
            )
        }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let raw = Data(base64Encoded: text), raw.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw AgentError.badKey(path: path, reason: "not a Flightlog key (one base64 line of 32 bytes)")
        }
        return key
    }

    /// The public key as `flightlog enroll --public-key` takes it.
    public static func publicKeyText(_ key: Curve25519.Signing.PublicKey) -> String {
        key.rawRepresentation.base64EncodedString()
    }
}
