public import FlightlogEvidence
public import FlightlogSigma

/// What the investigator's commands read: events selected by an ``EventQuery`` (`query`, `timeline`, `stats`,
/// `hunt`), row by row, so that an output of millions of events is streamed.
public protocol EventReading: Sendable {
    /// Calls `body` with each selected event, in the query's order, until it returns false; returns how many it saw.
    func forEachEvent(_ query: EventQuery, _ body: (EventRecord) throws -> Bool) throws -> Int

    /// Each selected event as its JSON object (``EventJSON``), written straight from the row.
    func forEachEventJSON(
        _ query: EventQuery,
        style: EventJSON.Style,
        times: TimeFormatter,
        _ body: (inout [UInt8]) throws -> Bool
    ) throws -> Int

    /// How many events the query selects.
    func countEvents(_ query: EventQuery) throws -> Int

    /// The ids of the events each rule selects under `query`'s filters, found in passes shared by rules that need
    /// the same full-text search, or share a scan; nil for a rule left to run alone.
    func matchingEventIDs(_ rules: [TranslatedCondition], _ query: EventQuery, maxMatches: Int) throws -> [[Int64]?]

    /// The field keys, programs and sources some stored event has.
    func catalogue() throws -> StoreCatalogue

    /// How the store would run the query (`query --explain`).
    func explain(_ query: EventQuery, count: Bool) throws -> QueryExplanation

    /// The findings, gaps, agent starts and silences of longer than `silenceNanos` around the selected events.
    func timelineContext(_ query: EventQuery, silenceNanos: Int64?) throws -> TimelineContext

    /// Counts per `key` and time bucket, with spikes and events outside `workHours`.
    func stats(
        _ query: EventQuery,
        by key: StatsKey,
        bucketNanos: Int64,
        workHours: WorkHours,
        spikeFactor: Double,
        minimumSpike: Int
    ) throws -> StatsReport

    /// The hits of a Sigma correlation rule over the selected events, the correlated rules resolved in `rules`;
    /// `narrowing: false` reads every correlated rule whole (the same hits, slower: for tests).
    func correlate(
        _ rule: SigmaRule,
        in rules: SigmaRuleSet,
        query: EventQuery,
        narrowing: Bool
    ) throws -> [CorrelationHit]
}

extension EventReading {
    public func forEachEventJSON(
        _ query: EventQuery,
        times: TimeFormatter = .utc,
        _ body: (inout [UInt8]) throws -> Bool
    ) throws -> Int {
        try self.forEachEventJSON(query, style: .plain, times: times, body)
    }

    public func explain(_ query: EventQuery) throws -> QueryExplanation {
        try self.explain(query, count: false)
    }

    public func stats(
        _ query: EventQuery,
        by key: StatsKey,
        bucketNanos: Int64,
        workHours: WorkHours
    ) throws -> StatsReport {
        try self.stats(query, by: key, bucketNanos: bucketNanos, workHours: workHours, spikeFactor: 3, minimumSpike: 5)
    }

    public func correlate(_ rule: SigmaRule, in rules: SigmaRuleSet, query: EventQuery) throws -> [CorrelationHit] {
        try self.correlate(rule, in: rules, query: query, narrowing: true)
    }
}
