import Crypto
public import Foundation
import SwiftASN1
public import X509

/// A small private CA and one server certificate, for deployments without a PKI (`flightlog tls-init`).
///
/// Keys are ECDSA P-256. The CA is valid for 10 years and may sign end-entity certificates only (path length 0); the
/// server certificate for 397 days (the longest lifetime browsers accept, a yearly renewal with room to spare), for
/// the names and addresses given, with the key usages and extended key usage of a TLS server.
public struct PrivateCA: Sendable {
    public let caCertificate: Certificate
    public let caKey: Certificate.PrivateKey
    public let serverCertificate: Certificate
    public let serverKey: Certificate.PrivateKey

    public static let caLifetime: TimeInterval = 10 * 365 * 86_400
    public static let serverLifetime: TimeInterval = 397 * 86_400

    /// Makes the CA and the server certificate for `names` (DNS names) and `addresses` (IP literals).
    public static func make(
        organization: String = "Flightlog",
        names: [String],
        addresses: [String],
        now: Date = Date()
    ) throws -> PrivateCA {
        let caKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let caName = try DistinguishedName {
            OrganizationName(organization)
            CommonName("\(organization) private CA")
        }
        // A minute back: a clock slightly behind on the agent must not see a certificate from the future.
        let start = now.addingTimeInterval(-60)
        let caCertificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: caKey.publicKey,
            notValidBefore: start,
            notValidAfter: now.addingTimeInterval(Self.caLifetime),
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: caKey.publicKey)
            },
            issuerPrivateKey: caKey
        )
        let server = try Self.issue(
            names: names,
            addresses: addresses,
            by: caCertificate,
            key: caKey,
            notBefore: start,
            notAfter: now.addingTimeInterval(Self.serverLifetime)
        )
        return PrivateCA(caCertificate: caCertificate, caKey: caKey, serverCertificate: server.0, serverKey: server.1)
    }

    /// A server certificate and its new key, signed by `issuer` with `key`.
    public static func issue(
        names: [String],
        addresses: [String],
        by issuer: Certificate,
        key: Certificate.PrivateKey,
        notBefore: Date,
        notAfter: Date
    ) throws -> (Certificate, Certificate.PrivateKey) {
        var alternatives: [GeneralName] = names.map { .dnsName($0) }
        for address in addresses {
            guard let bytes = IPAddressText.bytes(address) else {
                throw TLSError.untrusted("'\(address)' is not an IP address")
            }
            alternatives.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        guard !alternatives.isEmpty else { throw TLSError.untrusted("a server certificate needs a name or an address") }
        let serverKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName { CommonName(names.first ?? addresses[0]) }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: serverKey.publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: issuer.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternatives)
                SubjectKeyIdentifier(hash: serverKey.publicKey)
                if let identifier = try issuer.extensions.subjectKeyIdentifier {
                    AuthorityKeyIdentifier(keyIdentifier: identifier.keyIdentifier)
                }
            },
            issuerPrivateKey: key
        )
        return (certificate, serverKey)
    }

    /// PEM of a certificate.
    public static func pem(_ certificate: Certificate) throws -> String {
        try certificate.serializeAsPEM().pemString + "\n"
    }

    /// PEM (PKCS #8) of a private key.
    public static func pem(_ key: Certificate.PrivateKey) throws -> String {
        try key.serializeAsPEM().pemString + "\n"
    }

    /// Writes `text` to `path` with `mode`, refusing to replace an existing file.
    public static func write(_ text: String, to path: String, mode: mode_t) throws(TLSError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "exists already; move it away first" : String(cString: strerror(errno))
            throw TLSError.badFile(path: path, reason: reason)
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw TLSError.badFile(path: path, reason: "cannot be written: \(String(cString: strerror(errno)))")
        }
        // The umask may have taken bits away; the mode is what it must be, not less.
        fchmod(fd, mode)
    }
}
