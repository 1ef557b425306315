public import FlightlogWire

/// The parsed fields that get their own indexed column: the pivots investigators use most.
public struct IndexedColumns: Sendable, Equatable {
    public var program: String?
    public var pid: Int64?
    public var user: String?
    public var sourceIP: String?
    public var severity: String?

    /// Picks the standard keys (`program`, `pid`, `user`, `src_ip`, `severity`) out of an event's fields.
    public init(_ event: Event) {
        for field in event.fields {
            switch field.key {
            case "program" where self.program == nil: self.program = field.value
            case "pid" where self.pid == nil: self.pid = Int64(field.value)
            case "user" where self.user == nil: self.user = field.value
            case "src_ip" where self.sourceIP == nil: self.sourceIP = field.value
            case "severity" where self.severity == nil: self.severity = field.value
            default: break
            }
        }
    }
}
