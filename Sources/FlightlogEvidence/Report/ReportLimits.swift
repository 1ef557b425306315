/// How much of a selection the HTML report shows, so that a report of a large bundle stays small enough to open and
/// mail (``ReportRenderer``): the first rows of each section with the count of the rest, and aggregated charts.
public struct ReportLimits: Sendable, Equatable {
    /// Event rows of the incident timeline.
    public var timelineEvents: Int
    /// Rows of the gaps-and-findings table (every marker also sits in the timeline where it falls).
    public var markers: Int
    /// Matching events listed under each hunt rule.
    public var eventsPerRule: Int
    /// Hit lines listed under each correlation rule.
    public var hitsPerRule: Int
    /// Hosts drawn in the events-over-time charts (the busiest ones).
    public var chartHosts: Int
    /// Bars per chart: more buckets are merged into this many.
    public var chartBuckets: Int
    /// Batches listed in the chain of custody.
    public var batches: Int
    /// Characters of a message shown (the rest is cut, with a mark).
    public var messageCharacters: Int

    public init(
        timelineEvents: Int = 500,
        markers: Int = 200,
        eventsPerRule: Int = 20,
        hitsPerRule: Int = 10,
        chartHosts: Int = 24,
        chartBuckets: Int = 96,
        batches: Int = 200,
        messageCharacters: Int = 2_000
    ) {
        self.timelineEvents = timelineEvents
        self.markers = markers
        self.eventsPerRule = eventsPerRule
        self.hitsPerRule = hitsPerRule
        self.chartHosts = chartHosts
        self.chartBuckets = chartBuckets
        self.batches = batches
        self.messageCharacters = messageCharacters
    }

    /// The limits `flightlog export` uses.
    public static let standard = ReportLimits()
}
