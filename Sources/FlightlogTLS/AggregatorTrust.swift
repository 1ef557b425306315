public import Foundation
public import NIOCore
public import NIOSSL
import SwiftASN1
public import X509

/// How an agent decides that the peer at the other end of its TLS connection is its aggregator: a CA whose chain
/// must lead to it and name the host, pins of which one must match a certificate of the chain, or both.
///
/// The TLS handshake itself proves that the peer holds the private key of the first certificate it presented;
/// this decides whether that certificate is trusted. Each refusal says why in words an operator can act on: which
/// CA, which pin, which date, which name.
public struct AggregatorTrust: Sendable {
    /// Certificates of the CAs from `--ca` (empty: no CA check).
    public let roots: [Certificate]
    /// Pins from `--pin` (empty: no pin check).
    public let pins: Set<CertificatePin>
    /// Where the CAs came from, for messages.
    public let caPath: String?

    public init(roots: [Certificate], pins: Set<CertificatePin>, caPath: String? = nil) throws(TLSError) {
        guard !roots.isEmpty || !pins.isEmpty else { throw TLSError.nothingToTrust }
        self.roots = roots
        self.pins = pins
        self.caPath = caPath
    }

    /// Reads the CA file (PEM, one or more certificates) and parses the pins.
    public init(caPath: String?, pins: [String]) throws(TLSError) {
        var roots: [Certificate] = []
        if let caPath {
            roots = try Self.readCertificates(caPath)
            guard !roots.isEmpty else { throw TLSError.badFile(path: caPath, reason: "holds no certificate") }
        }
        var parsed: Set<CertificatePin> = []
        for pin in pins { parsed.insert(try CertificatePin(pin)) }
        try self.init(roots: roots, pins: parsed, caPath: caPath)
    }

    /// The certificates of a PEM file.
    public static func readCertificates(_ path: String) throws(TLSError) -> [Certificate] {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSError.badFile(
                path: path,
                reason: FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions)" : "does not exist"
            )
        }
        do {
            return try NIOSSLCertificate.fromPEMFile(path).map { try Certificate(derEncoded: try $0.toDERBytes()) }
        } catch {
            throw TLSError.badFile(path: path, reason: "not a PEM certificate file (\(error))")
        }
    }

    /// Decides whether `presented` (the peer's chain, its own certificate first) is the aggregator at `host` (a
    /// DNS name or an IP literal); nil when it is, else why not. The first certificate's dates are checked against
    /// `now` here, with words for each case; the chain's path validation uses the current time.
    public func refusal(of presented: [Certificate], host: String, now: Date) async -> TLSError? {
        guard let leaf = presented.first else { return .untrusted("the aggregator presented no certificate") }
        if now < leaf.notValidBefore {
            return .untrusted(
                "the aggregator's certificate is not valid yet: not before \(Self.date(leaf.notValidBefore)) "
                    + "(now \(Self.date(now)); check the clocks)"
            )
        }
        if now > leaf.notValidAfter {
            return .untrusted(
                "the aggregator's certificate expired on \(Self.date(leaf.notValidAfter)) (now \(Self.date(now)))"
            )
        }
        if !self.roots.isEmpty {
            if let refusal = await self.caRefusal(presented, host: host, now: now) { return refusal }
        }
        if !self.pins.isEmpty {
            if let refusal = await self.pinRefusal(presented, now: now) { return refusal }
        }
        return nil
    }

    private func caRefusal(_ presented: [Certificate], host: String, now: Date) async -> TLSError? {
        let intermediates = CertificateStore(presented.dropFirst())
        var chain = Verifier(rootCertificates: CertificateStore(self.roots)) { RFC5280Policy() }
        guard case .validCertificate = await chain.validate(leaf: presented[0], intermediates: intermediates) else {
            return .untrusted(
                "unknown CA: the aggregator's certificate (\(presented[0].subject)) is not signed by the CA of "
                    + "\(self.caPath ?? "--ca"), or its chain is not valid now"
            )
        }
        let isIP = IPAddressText.bytes(host) != nil
        var named = Verifier(rootCertificates: CertificateStore(self.roots)) {
            RFC5280Policy()
            ServerIdentityPolicy(serverHostname: isIP ? nil : host, serverIP: isIP ? host : nil)
        }
        guard case .validCertificate = await named.validate(leaf: presented[0], intermediates: intermediates) else {
            return .untrusted(
                "name mismatch: the aggregator's certificate is for \(Self.names(presented[0])), not \(host)"
            )
        }
        return nil
    }

    private func pinRefusal(_ presented: [Certificate], now: Date) async -> TLSError? {
        let pinned = presented.enumerated().filter {
            (try? CertificatePin($0.element)).map(self.pins.contains) ?? false
        }
        guard let match = pinned.first else {
            return .pinMismatch(presented: presented.compactMap { try? CertificatePin($0).description })
        }
        // The leaf itself: the handshake proved its key. A CA further up: the chain to it must verify, or anyone
        // could present their own certificate next to the (public) pinned one.
        if match.offset == 0 { return nil }
        var verifier = Verifier(rootCertificates: CertificateStore([match.element])) {
            RFC5280Policy()
        }
        let intermediates = CertificateStore(presented[1..<match.offset])
        guard case .validCertificate = await verifier.validate(leaf: presented[0], intermediates: intermediates)
        else {
            return .untrusted(
                "pin mismatch: the pinned certificate \(match.element.subject) was presented, but the aggregator's "
                    + "own certificate is not validly signed by it"
            )
        }
        return nil
    }

    static func date(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    /// The DNS names and IP addresses a certificate is for.
    static func names(_ certificate: Certificate) -> String {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return "no name" }
        let texts = names.map { name -> String in
            switch name {
            case .dnsName(let dns): return dns
            case .ipAddress(let octets): return IPAddressText.text(Array(octets.bytes))
            default: return "\(name)"
            }
        }
        return texts.isEmpty ? "no name" : texts.joined(separator: ", ")
    }

    /// A verification callback for NIOSSL: converts the presented chain and completes `promise` with the decision;
    /// `refused` hears why, for the log and the status counters.
    public func verificationCallback(
        host: String,
        refused: @escaping @Sendable (TLSError) -> Void
    ) -> @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void {
        { certificates, promise in
            let presented = certificates.compactMap { try? Certificate(derEncoded: try $0.toDERBytes()) }
            guard presented.count == certificates.count else {
                refused(.untrusted("the aggregator presented a certificate that cannot be parsed"))
                promise.succeed(.failed)
                return
            }
            promise.completeWithTask {
                if let refusal = await self.refusal(of: presented, host: host, now: Date()) {
                    refused(refusal)
                    return .failed
                }
                return .certificateVerified
            }
        }
    }
}

/// IPv4 and IPv6 literals as text and bytes.
enum IPAddressText {
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return ok ? String(decoding: text, as: UTF8.self) : bytes.map { String($0) }.joined(separator: ".")
    }
}
