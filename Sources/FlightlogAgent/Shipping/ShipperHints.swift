import FlightlogWire
import Glibc
import NIOCore
import NIOPosix

/// What to do next, for the failures a newcomer meets first when an agent cannot ship (issue 27: help that teaches):
/// logged as `hint` beside the error, so that the agent's log says how to fix what it reports.
enum ShipperHints {
    /// After the aggregator ended a session with an ERROR of `code`, or nil when nothing helps.
    static func afterRefusal(_ code: ErrorCode, _ configuration: AgentConfiguration) -> String? {
        switch code {
        case .unknownAgent:
            return "enrol this key on the aggregator: flightlog enroll --db DB --name \(configuration.hostname) "
                + "--public-key \"$(flightlog-agent pubkey --key \(configuration.keyPath))\"; or issue a token "
                + "(flightlog enroll-token --name \(configuration.hostname)) and run flightlog-agent enroll with it"
        case .revokedAgent:
            return "an operator revoked this key: a reinstalled host needs a new key enrolled (flightlog "
                + "enroll-token --name \(configuration.hostname) --reenroll, then flightlog-agent enroll)"
        default:
            return nil
        }
    }

    /// After the peer answered with `greeting`, the first bytes of some other protocol (the wrong port).
    static func notAnAggregator(greeting: String, _ configuration: AgentConfiguration) -> String {
        let address = "\(configuration.aggregatorHost):\(configuration.aggregatorPort)"
        let what =
            greeting.hasPrefix("HTTP")
            ? "an HTTP server (a metrics endpoint, a proxy?)"
            : greeting.hasPrefix("SSH-") ? "an SSH server" : "something that is not a Flightlog aggregator"
        return "\(address) answered \"\(greeting)…\": \(what). Point the agent at the port of `flightlog serve "
            + "--listen` (7514 unless changed)"
    }

    /// After a connection could not be made (`error` as ``ClientBootstrap`` threw it), or nil when nothing helps.
    static func unreachable(_ error: any Error, _ configuration: AgentConfiguration) -> String? {
        let address = "\(configuration.aggregatorHost):\(configuration.aggregatorPort)"
        if let failure = error as? NIOConnectionError {
            if failure.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
                return "nothing accepts connections at \(address): is `flightlog serve` running there, and is this "
                    + "its --listen port?"
            }
            if failure.connectionErrors.isEmpty, failure.dnsAError != nil || failure.dnsAAAAError != nil {
                return "\(configuration.aggregatorHost) does not resolve: check the aggregator's name"
            }
        }
        if case ChannelError.connectTimeout = error {
            return "no answer from \(address) within 10 s: a firewall between them, or the wrong address"
        }
        return nil
    }
}
