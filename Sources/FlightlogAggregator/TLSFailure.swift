import NIOSSL

/// A failed TLS handshake as the aggregator sees it, in plain words and with the counter it is counted under
/// (`tls_failures.<counter>` in `flightlog status`). The agent's own log says why it refused; here the TLS alert it
/// sent is what there is to go by.
enum TLSFailure: CustomStringConvertible {
    /// The agent refused this aggregator's certificate (unknown CA, pin, date or name: the agent's log says which).
    case certificateRefused
    /// The agent offers no TLS 1.3, or nothing in common.
    case protocolVersion
    /// The connection closed during the handshake.
    case closed
    /// Anything else TLS reports.
    case other(String)

    init?(_ error: any Error) {
        let text: String
        switch error {
        case let error as NIOSSLError:
            if case .uncleanShutdown = error {
                self = .closed
                return
            }
            text = "\(error)"
        case let error as BoringSSLError: text = "\(error)"
        default: return nil
        }
        if text.contains("CERTIFICATE_UNKNOWN") || text.contains("BAD_CERTIFICATE") || text.contains("UNKNOWN_CA")
            || text.contains("CERTIFICATE_EXPIRED") || text.contains("CERTIFICATE_REVOKED")
        {
            self = .certificateRefused
        } else if text.contains("PROTOCOL_VERSION") || text.contains("NO_SHARED")
            || text.contains("UNSUPPORTED_PROTOCOL")
        {
            self = .protocolVersion
        } else {
            // BoringSSL's reason, without the source path it appends.
            let reason = text.split(separator: ":").dropFirst(4).first.map(String.init) ?? text
            self = .other(reason)
        }
    }

    var counter: String {
        switch self {
        case .certificateRefused: "certificate_refused"
        case .protocolVersion: "protocol_version"
        case .closed: "closed_during_handshake"
        case .other: "other"
        }
    }

    var description: String {
        switch self {
        case .certificateRefused:
            "the agent refused this aggregator's certificate: its CA (--ca) or pin (--pin) does not match, or the "
                + "certificate is expired or for another name (the agent's log says which)"
        case .protocolVersion: "the agent does not offer TLS 1.3"
        case .closed: "the agent closed the connection during the TLS handshake"
        case .other(let reason): "TLS failed: \(reason)"
        }
    }
}
