import FlightlogEvidence

/// The indexed columns of `events` a field name can mean: what a Sigma rule's `user` or `src_ip` reads, and what the
/// full-text index therefore leaves out of its `fields` column (see ``FieldsDocument``).
enum EventColumn: Sendable, Equatable {
    /// The raw line (`message`, `line`, `raw`).
    case line
    case host
    case user
    case sourceIP
    case program
    case source
    case severity

    /// Field names (lowercased) that map onto a column; any other field is looked up in the parsed fields.
    static let aliases: [String: EventColumn] = [
        "host": .host, "hostname": .host, "computername": .host, "computer": .host,
        "user": .user, "username": .user, "targetusername": .user, "subjectusername": .user,
        "src_ip": .sourceIP, "sourceip": .sourceIP, "ipaddress": .sourceIP, "clientip": .sourceIP, "ip": .sourceIP,
        "program": .program, "processname": .program, "process": .program,
        "source": .source, "severity": .severity,
        "message": .line, "line": .line, "raw": .line,
    ]

    /// The column a field name means, if any (case-insensitive; an ECS name as ``FieldSchema`` maps it).
    static func named(_ field: String) -> EventColumn? {
        Self.aliases[FieldSchema.flightlogName(field).lowercased()]
    }

    /// The SQL expression of the column over `events e`; the line as text, so that LIKE and REGEXP see characters.
    var sql: String {
        switch self {
        case .line: "CAST(\(EventContentFunctions.line()) AS TEXT)"
        case .host: "e.host"
        case .user: "e.user"
        case .sourceIP: "e.src_ip"
        case .program: "e.program"
        case .source: EventContentFunctions.source()
        case .severity: EventContentFunctions.severity()
        }
    }
}
