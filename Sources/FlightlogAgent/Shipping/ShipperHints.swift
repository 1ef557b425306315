/// What to do next, for the failures a newcomer meets first when an agent cannot ship (issue 27: help that teaches):
/// logged as `hint` beside the error, so that the agent's log says how to fix what it reports.
enum ShipperHints {
    /// After the aggregator ended a session with `reason` (an ERROR's code and message), or nil when nothing helps.
    static func afterRefusal(_ reason: String, _ configuration: AgentConfiguration) -> String? {
        if reason.contains("unknownAgent") {
            return "enrol this key on the aggregator: flightlog enroll --db DB --name \(configuration.hostname) "
                + "--public-key \"$(flightlog-agent pubkey --key \(configuration.keyPath))\"; or issue a token "
                + "(flightlog enroll-token --name \(configuration.hostname)) and run flightlog-agent enroll with it"
        }
        if reason.contains("revokedAgent") {
            return "an operator revoked this key: a reinstalled host needs a new key enrolled (flightlog "
                + "enroll-token --name \(configuration.hostname) --reenroll, then flightlog-agent enroll)"
        }
        return nil
    }

    /// After a connection could not be made (`description` is the error's), or nil when nothing helps.
    static func unreachable(_ description: String, _ configuration: AgentConfiguration) -> String? {
        let address = "\(configuration.aggregatorHost):\(configuration.aggregatorPort)"
        if description.contains("Connection refused") {
            return "nothing accepts connections at \(address): is `flightlog serve` running there, and is this "
                + "its --listen port?"
        }
        if description.contains("connectTimeout") || description.contains("timed out") {
            return "no answer from \(address) within 10 s: a firewall between them, or the wrong address"
        }
        if description.contains("name") && (description.contains("resolve") || description.contains("lookup")) {
            return "\(configuration.aggregatorHost) does not resolve: check the aggregator's name"
        }
        return nil
    }
}
