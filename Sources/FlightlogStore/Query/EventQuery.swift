public import FlightlogEvidence
import GRDB

/// What an investigator asks for: a filter over stored events, shared by query, timeline, stats, hunt and export.
///
/// Every value is bound as an SQL parameter; nothing typed by the user is spliced into SQL text.
public struct EventQuery: Sendable, Equatable {
    /// Which of an event's two times filters and orders.
    public typealias Clock = EventClock

    /// Ascending (oldest first) or descending.
    public enum Order: String, Sendable, CaseIterable {
        case asc
        case desc
    }

    /// Inclusive lower bound, ns since the Unix epoch.
    public var sinceNanos: Int64?
    /// Exclusive upper bound, ns since the Unix epoch.
    public var untilNanos: Int64?
    public var host: String?
    /// Agent name.
    public var agent: String?
    public var user: String?
    public var program: String?
    public var source: String?
    /// Source IP (`src_ip`).
    public var ip: String?
    /// FTS5 expression over the raw line.
    public var match: String?
    /// Conditions on parsed fields, all of which must hold.
    public var conditions: [FieldCondition] = []
    /// Events within `aroundWindowNanos` of this event's time.
    public var aroundEventID: Int64?
    public var aroundWindowNanos: Int64 = 600_000_000_000
    public var limit: Int?
    public var order: Order = .asc
    public var clock: Clock = .event
    /// A translated detection rule (see ``SigmaRule``); only this module can build one.
    public var rule: TranslatedCondition?
    /// Only these events (the events behind a correlation hit, say).
    public var eventIDs: [Int64]?
    /// An extra SQL term built in this module (a correlation narrowing a later rule to the groups and times an
    /// earlier one found).
    var restriction: SQLTerm?

    /// Whether a correlation narrowed the query with SQL of this module's (``restriction``).
    package var isRestricted: Bool { self.restriction != nil }

    public init() {}
}
