public import FlightlogSigma
import FlightlogWire
import GRDB

extension SQLiteStore {
    /// Runs a correlation rule (``SigmaRule/correlation``) over the events `query` selects, and returns its hits
    /// sorted by start; `query.limit` caps their number. The correlated rules are resolved in `rules`.
    ///
    /// The rules of `temporal` and `temporal_ordered` correlations that need every rule are read one after the
    /// other, and each later one only inside the groups and times the first one found (a reset narrows the
    /// logins to read to that user and the hour after it), with the group-by columns' indexes, when the group-by
    /// fields are indexed columns and the windows are few; otherwise each rule is read whole. `narrowing: false`
    /// always reads them whole (the same hits, slower: for tests).
    public func correlate(
        _ rule: SigmaRule,
        in rules: SigmaRuleSet,
        query: EventQuery,
        narrowing: Bool = true
    ) throws -> [CorrelationHit] {
        guard let correlation = rule.correlation else { return [] }
        return try self.readTranslatingErrors(query) { db in
            let runner = CorrelationRunner(db: db, rules: rules, query: query, narrowing: narrowing)
            return try runner.ordered(runner.hits(correlation, reference: rule.name ?? rule.id ?? rule.title, depth: 0))
        }
    }
}

extension CorrelationRunner {
    /// The hits in the query's order, as many as its limit.
    func ordered(_ hits: [CorrelationHit]) -> [CorrelationHit] {
        var hits = hits
        if self.query.order == .desc { hits.reverse() }
        if let limit = self.limit, hits.count > max(0, limit) { hits.removeLast(hits.count - max(0, limit)) }
        return hits
    }
}

/// Sigma correlation rules on a store read through ``EventReading`` alone (the PostgreSQL store): each correlated
/// rule read whole, the same hits as the SQLite store's `correlate`.
public enum Correlations {
    public static func hits(
        _ rule: SigmaRule,
        in rules: SigmaRuleSet,
        query: EventQuery,
        reader: any EventReading
    ) throws -> [CorrelationHit] {
        guard let correlation = rule.correlation else { return [] }
        let runner = CorrelationRunner(reader: reader, rules: rules, query: query)
        return try runner.ordered(runner.hits(correlation, reference: rule.name ?? rule.id ?? rule.title, depth: 0))
    }
}
