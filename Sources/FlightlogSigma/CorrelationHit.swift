/// What a correlation rule found: the matches of one group that satisfy it within the timespan.
public struct CorrelationHit: Sendable, Equatable {
    /// (field, value) for each group-by field.
    public var group: [GroupValue]
    public var start: Int64
    public var end: Int64
    /// How many matches of the correlated rules the hit holds.
    public var matches: Int
    /// The events behind it, ascending.
    public var eventIDs: [Int64]

    public struct GroupValue: Sendable, Equatable {
        public var field: String
        public var value: String

        public init(field: String, value: String) {
            self.field = field
            self.value = value
        }
    }
}
