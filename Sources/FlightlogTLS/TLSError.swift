/// Why TLS could not be set up or a peer was not trusted, in words an operator can act on.
public enum TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A certificate, key or CA file could not be read or parsed.
    case badFile(path: String, reason: String)
    /// The private key does not belong to the first certificate of the chain.
    case keyMismatch(certificate: String, key: String)
    /// A `--pin` is not `sha256:` followed by 64 hexadecimal digits.
    case badPin(String)
    /// The agent has neither a CA nor a pin to check the aggregator with.
    case nothingToTrust
    /// No certificate of the chain the aggregator presented has a pinned public key.
    case pinMismatch(presented: [String])
    /// The chain does not lead to a trusted CA, or a certificate of it is expired, not yet valid, or for another name.
    case untrusted(String)

    public var description: String {
        switch self {
        case .badFile(let path, let reason): "\(path): \(reason)"
        case .keyMismatch(let certificate, let key):
            "the private key \(key) does not belong to the certificate \(certificate)"
        case .badPin(let pin):
            "'\(pin)' is not a pin: use sha256: and 64 hexadecimal digits (`flightlog tls-init` prints it)"
        case .nothingToTrust:
            "TLS needs a way to trust the aggregator: give --ca PEM or --pin sha256:HEX (or both), or "
                + "--insecure-plaintext on loopback"
        case .pinMismatch(let presented):
            "pin mismatch: no certificate the aggregator presented has a pinned public key (it presented "
                + presented.joined(separator: ", ") + ")"
        case .untrusted(let reason): reason
        }
    }
}
