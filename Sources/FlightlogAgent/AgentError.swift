/// Everything the agent can fail at, with what to do about it.
public enum AgentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be read or written.
    case io(path: String, reason: String)
    /// The key file is missing, unreadable or not a Flightlog key.
    case badKey(path: String, reason: String)
    /// The key file exists and `keygen` refuses to overwrite it.
    case keyExists(path: String)
    /// The configuration is invalid.
    case configuration(String)
    /// The state directory holds something this version cannot use.
    case badState(path: String, reason: String)
    /// The aggregator refused us with a code that needs an operator.
    case refused(code: String, message: String)
    /// The aggregator broke the protocol.
    case protocolViolation(String)
    /// The aggregator could not be reached or authenticated (TLS).
    case connection(String)
    /// A syslog sender broke its framing (RFC 6587); its connection is closed.
    case badSyslogFrame(String)
    /// A syslog input could not be opened.
    case cannotListen(String)

    public var description: String {
        switch self {
        case .io(let path, let reason): "\(path): \(reason)"
        case .badKey(let path, let reason): "key \(path): \(reason)"
        case .keyExists(let path): "\(path) already exists; refusing to overwrite a key (move it away first)"
        case .configuration(let message): "configuration: \(message)"
        case .badState(let path, let reason): "state \(path): \(reason)"
        case .refused(let code, let message): "aggregator refused: \(code): \(message)"
        case .protocolViolation(let message): "protocol violation by the aggregator: \(message)"
        case .connection(let message): message
        case .badSyslogFrame(let message): "bad syslog frame: \(message)"
        case .cannotListen(let message): "cannot listen for syslog: \(message)"
        }
    }
}
