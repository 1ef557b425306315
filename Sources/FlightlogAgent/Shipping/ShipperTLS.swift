public import FlightlogTLS
import NIOCore
public import NIOSSL
import Synchronization

/// The agent's side of TLS (PROTOCOL.md §2): a TLS 1.3 client context, and the aggregator's certificate checked
/// by ``AggregatorTrust`` (CA, pins or both) in NIOSSL's verification callback, so that a refusal says why.
public final class ShipperTLS: Sendable {
    private let context: NIOSSLContext
    private let trust: AggregatorTrust
    /// Why the last handshake's certificate was refused; read when NIOSSL reports the failed handshake.
    private let lastRefusal = Mutex<TLSError?>(nil)

    public init(trust: AggregatorTrust) throws(TLSError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        // The callback checks the chain and the name itself (with messages); NIOSSL's own name check is off.
        configuration.certificateVerification = .noHostnameVerification
        do {
            self.context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSError.untrusted("cannot set up TLS: \(error)")
        }
        self.trust = trust
    }

    /// The TLS handler for a connection to `host` (SNI carries names, never IP literals). Public for the benchmark
    /// client, which shakes hands as the agent does.
    public func handler(host: String) throws -> NIOSSLClientHandler {
        self.lastRefusal.withLock { $0 = nil }
        let callback = self.trust.verificationCallback(host: host) { [self] refusal in
            self.lastRefusal.withLock { $0 = refusal }
        }
        let isIP = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(
            context: self.context,
            serverHostname: isIP ? nil : host,
            customVerificationCallback: callback
        )
    }

    /// Plain words for a failed TLS connection: the certificate's refusal when there was one; else what the
    /// failure means for an operator.
    func describe(_ error: any Error) -> String {
        if let refusal = self.lastRefusal.withLock({ $0 }) { return "TLS: \(refusal)" }
        let text = "\(error)"
        if text.contains("WRONG_VERSION_NUMBER") {
            return "TLS: the aggregator answered in plaintext: it runs with --insecure-plaintext (or this is not a "
                + "Flightlog aggregator)"
        }
        if text.contains("uncleanShutdown") || text.contains("eofDuringHandshake") {
            return "TLS: the aggregator closed the connection during the TLS handshake"
        }
        if text.contains("PROTOCOL_VERSION") {
            return "TLS: the aggregator does not speak TLS 1.3"
        }
        return "TLS handshake failed: \(text)"
    }
}
