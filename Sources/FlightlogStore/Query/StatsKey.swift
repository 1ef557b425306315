import GRDB

/// How `flightlog stats` groups events.
public enum StatsKey: String, Sendable, CaseIterable {
    case host
    case user
    case program
    case ip

    var column: String {
        switch self {
        case .host: "e.host"
        case .user: "e.user"
        case .program: "e.program"
        case .ip: "e.src_ip"
        }
    }
}
