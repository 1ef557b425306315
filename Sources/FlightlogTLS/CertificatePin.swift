import Crypto
import Foundation
public import NIOSSL
import SwiftASN1
public import X509

/// A pinned public key: SHA-256 of a certificate's DER SubjectPublicKeyInfo, written `sha256:` and 64 lower-case
/// hexadecimal digits. Pinning the key rather than the certificate lets a renewed certificate with the same key
/// pass; pinning a CA's key lets every certificate it signs pass (the chain up to it is then verified).
public struct CertificatePin: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes of the digest.
    public let digest: [UInt8]

    /// Parses `sha256:HEX`.
    public init(_ text: String) throws(TLSError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("sha256:") else { throw TLSError.badPin(text) }
        let hex = Array(trimmed.dropFirst(7).lowercased().utf8)
        guard hex.count == 64 else { throw TLSError.badPin(text) }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.nibble(hex[index]), let low = Self.nibble(hex[index + 1]) else {
                throw TLSError.badPin(text)
            }
            bytes.append(high << 4 | low)
        }
        self.digest = bytes
    }

    /// The pin of a SubjectPublicKeyInfo in DER.
    public init(spki: [UInt8]) {
        self.digest = Array(SHA256.hash(data: spki))
    }

    /// The pin of a certificate's public key.
    public init(_ certificate: Certificate) throws {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate.publicKey)
        self.init(spki: serializer.serializedBytes)
    }

    /// The pin of a certificate's public key, as NIOSSL holds it.
    public init(_ certificate: NIOSSLCertificate) throws {
        self.init(spki: try certificate.extractPublicKey().toSPKIBytes())
    }

    public var description: String {
        "sha256:" + self.digest.map { byte in String(byte, radix: 16).leftPadded(to: 2) }.joined()
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - self.count)) + self
    }
}
