import FlightlogEvidence

/// The names stored events carry, from the catalogue the store keeps at ingest: every parsed field key, program,
/// source and audit view (the value of `audit_view`, which the agent writes on the record that completes a linked
/// audit event) that some stored event has. `hunt` reports with it which rules can never match on this store.
///
/// It is derived data and not evidence: a name missing from it (an edited database) changes what the report says,
/// never what a rule finds, since every rule is run.
public struct StoreCatalogue: Sendable, Equatable {
    public var fields: Set<String>
    public var programs: Set<String>
    public var sources: Set<String>
    /// The values of `audit_view`: `process_creation`, `network_connection`, `file_event`.
    public var auditViews: Set<String>

    /// The field whose values the catalogue keeps (its kind in the catalogue table): the pipeline narrows a Sysmon
    /// category to one of them.
    public static let auditViewKey = "audit_view"

    public init(
        fields: Set<String> = [],
        programs: Set<String> = [],
        sources: Set<String> = [],
        auditViews: Set<String> = []
    ) {
        self.fields = fields
        self.programs = programs
        self.sources = sources
        self.auditViews = auditViews
    }
}

extension StoreCatalogue {
    /// Adds a row of the store's `catalogue` table; a kind this version does not know is left out.
    public mutating func insert(kind: String, name: String) {
        switch kind {
        case "field": self.fields.insert(name)
        case "program": self.programs.insert(name)
        case "source": self.sources.insert(name)
        case Self.auditViewKey: self.auditViews.insert(name)
        default: break
        }
    }

    /// Whether some stored event has a value for `field` as a rule names it: the line, host and source always; the
    /// indexed columns (`user`, `src_ip`, `program`, `severity` and their aliases) when some event has that key;
    /// any other name when some event has that key.
    public func hasField(_ field: String) -> Bool {
        switch EventColumn.named(field) {
        case .line, .host, .source: return true
        case .user: return self.fields.contains("user")
        case .sourceIP: return self.fields.contains("src_ip")
        case .program: return self.fields.contains("program")
        case .severity: return self.fields.contains("severity")
        case nil: return self.fields.contains(FieldSchema.flightlogName(field))
        }
    }
}
