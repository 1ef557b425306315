package import FlightlogEvidence
import FlightlogSigma
import FlightlogWire
import Foundation
import GRDB

/// Fills an ``IncidentReport`` from the store for what an export selects, with the store's own timeline, stats and
/// hunt logic: the markers of `flightlog timeline`, the host buckets of `flightlog stats`, the rules as `flightlog
/// hunt` runs them. Reads only what the page shows (``ReportLimits``) plus counts, so a large selection stays cheap.
package enum ReportGatherer {
    /// The report of `query`; `custody` as the exporter knows it (nil: a report written alone, custody read from the
    /// store).
    package static func report(
        store: some BundleSource,
        query: EventQuery,
        options: ReportOptions,
        custody: IncidentReport.Custody?,
        now: Int64
    ) async throws -> IncidentReport {
        var selection = query
        selection.limit = nil
        selection.order = .asc
        let limits = options.limits
        let total = try store.countEvents(selection)

        var firstEvents = selection
        firstEvents.limit = limits.timelineEvents
        var events: [IncidentReport.Event] = []
        _ = try store.forEachEvent(firstEvents) { event in
            events.append(Self.event(event))
            return true
        }
        var lastEvent = selection
        lastEvent.limit = 1
        lastEvent.order = .desc
        var lastTime: Int64?
        _ = try store.forEachEvent(lastEvent) { event in
            lastTime = event.time(on: query.clock)
            return false
        }
        let start = query.sinceNanos ?? events.first.map { $0.timeNanos }
        // The window as shown ends at the last event; the chart's range, like --until, excludes its end.
        let shownEnd = query.untilNanos ?? lastTime
        let end = query.untilNanos ?? lastTime.map { $0 &+ 1 }

        let context = try store.timelineContext(selection, silenceNanos: options.silenceNanos)
        let markers = context.markers.map {
            IncidentReport.Marker(
                kind: IncidentReport.Marker.Kind(rawValue: $0.kind.rawValue) ?? .finding,
                timeNanos: $0.timeNanos,
                agent: $0.agent,
                detail: $0.detail
            )
        }
        let chart = try Self.chart(store: store, query: selection, start: start, end: end, limits: limits)

        let shown = Set(events.map(\.id))
        var tags: [Int64: [String]] = [:]
        let hunt = try Self.hunt(store: store, query: selection, options: options, shown: shown, tags: &tags)
        for index in events.indices { events[index].rules = tags[events[index].id] ?? [] }

        let resolvedCustody: IncidentReport.Custody
        if let custody {
            resolvedCustody = custody
        } else {
            resolvedCustody = try await Self.storeCustody(
                store: store,
                query: selection,
                agents: context.agents,
                options: options
            )
        }
        var withVerify = resolvedCustody
        withVerify.lastVerify = try await store.lastVerifyDescription()
        return IncidentReport(
            windowStart: start,
            windowEnd: shownEnd,
            filters: options.filters,
            agents: context.agents.map(\.name),
            generatedNanos: now,
            generatedBy: options.who,
            generator: ReportOptions.generator,
            totalEvents: total,
            events: events,
            markers: markers,
            chart: chart,
            hunt: hunt,
            custody: withVerify
        )
    }

    static func event(_ event: EventRecord) -> IncidentReport.Event {
        IncidentReport.Event(
            id: event.id,
            timeNanos: event.timeNanos,
            host: event.host,
            agent: event.agent,
            program: event.program,
            user: event.user,
            sourceIP: event.sourceIP,
            message: event.displayedLine,
            batch: "e\(event.epoch)/s\(event.sequence)"
        )
    }

    // MARK: - Chart

    /// Bucket lengths a chart may use, shortest first; the first that fits the window in the bar limit is taken.
    static let bucketChoices: [Int64] = [60, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400]
        .map { $0 * 1_000_000_000 }

    /// Events per host in buckets over `start`…`end` (`flightlog stats --by host`), at most the limit's bars.
    private static func chart(
        store: some BundleSource,
        query: EventQuery,
        start: Int64?,
        end: Int64?,
        limits: ReportLimits
    ) throws -> IncidentReport.Chart {
        guard let start, let end, end > start else {
            return IncidentReport.Chart(startNanos: start ?? 0, bucketNanos: 0, series: [])
        }
        let bars = Int64(max(limits.chartBuckets, 1))
        let span = end.subtractingSaturating(start)
        let bucket =
            Self.bucketChoices.first { span / $0 < bars }
            ?? max((span / bars / 86_400_000_000_000 + 1) * 86_400_000_000_000, 1)
        // stats aligns buckets on multiples of the bucket length.
        let origin = start - ((start % bucket) + bucket) % bucket
        let count = Int(min((end.subtractingSaturating(origin) - 1) / bucket + 1, bars + 1))
        let report = try store.stats(
            query,
            by: .host,
            bucketNanos: bucket,
            workHours: WorkHours(startHour: 0, endHour: 24)
        )
        var series: [String: [Int]] = [:]
        for entry in report.buckets {
            let index = entry.startNanos.subtractingSaturating(origin) / bucket
            guard index >= 0, index < count else { continue }
            series[entry.key, default: [Int](repeating: 0, count: count)][Int(index)] += entry.count
        }
        return IncidentReport.Chart(
            startNanos: origin,
            bucketNanos: bucket,
            series: series.keys.sorted().map { IncidentReport.Chart.Series(host: $0, counts: series[$0] ?? []) }
        )
    }

    // MARK: - Hunt

    /// Runs each rule as `flightlog hunt` does, over the selection: its count, its first events, and the titles of
    /// the rules each shown timeline event matched (in `tags`).
    private static func hunt(
        store: some BundleSource,
        query: EventQuery,
        options: ReportOptions,
        shown: Set<Int64>,
        tags: inout [Int64: [String]]
    ) throws -> IncidentReport.Hunt {
        guard !options.rulePaths.isEmpty else { return .none }
        let limits = options.limits
        let set = SigmaRuleSet(rules: options.rules)
        var matched: [IncidentReport.Hunt.Rule] = []
        var notRun: [IncidentReport.Hunt.NotRun] = []
        var run = 0
        for rule in options.rules where rule.generated {
            guard rule.isRunnable else {
                notRun.append(.init(title: rule.title, reason: rule.unsupported.first ?? "nothing to run"))
                continue
            }
            run += 1
            var first: [IncidentReport.Event] = []
            var hits: [String] = []
            let count: Int
            if rule.correlation != nil {
                let found = try store.correlate(rule, in: set, query: query)
                count = found.count
                for (offset, hit) in found.enumerated() {
                    for id in hit.eventIDs where shown.contains(id) { tags[id, default: []].append(rule.title) }
                    guard offset < limits.hitsPerRule else { continue }
                    let group = hit.group.map { "\($0.field)=\($0.value)" }.joined(separator: " ")
                    hits.append(
                        "hit \(offset + 1): \(group.isEmpty ? "(all events)" : group), \(hit.matches) matches, "
                            + "\(Timestamp.rfc3339(hit.start)) → \(Timestamp.rfc3339(hit.end))"
                    )
                }
                let ids = found.prefix(limits.hitsPerRule).flatMap(\.eventIDs).prefix(limits.eventsPerRule)
                if !ids.isEmpty {
                    var events = query
                    events.eventIDs = Array(ids)
                    _ = try store.forEachEvent(events) { event in
                        first.append(Self.event(event))
                        return true
                    }
                }
            } else if let detection = rule.detection {
                var ruleQuery = query
                ruleQuery.rule = SigmaSQLCompiler.compile(detection)
                count = try store.forEachEvent(ruleQuery) { event in
                    if first.count < limits.eventsPerRule { first.append(Self.event(event)) }
                    if shown.contains(event.id) { tags[event.id, default: []].append(rule.title) }
                    return true
                }
            } else {
                continue
            }
            guard count > 0 else { continue }
            matched.append(
                IncidentReport.Hunt.Rule(
                    title: rule.title,
                    level: rule.level,
                    file: rule.file,
                    correlation: rule.correlation != nil,
                    count: count,
                    hits: hits,
                    events: first
                )
            )
        }
        return IncidentReport.Hunt(
            paths: options.rulePaths,
            rulesLoaded: options.rules.count,
            rulesRun: run,
            matched: matched,
            notRun: notRun
        )
    }

    // MARK: - Custody

    /// Custody as the store holds it, for a report written without a bundle: the selected events' batches, the
    /// agents' keys and the latest stored checkpoint.
    private static func storeCustody(
        store: some BundleSource,
        query: EventQuery,
        agents: [AgentRecord],
        options: ReportOptions
    ) async throws -> IncidentReport.Custody {
        let batches = try store.reportBatches(query)
        let latest = try await store.checkpoints().last
        return IncidentReport.Custody(
            bundleDirectory: nil,
            database: store.path,
            command: options.command,
            batchCount: batches.count,
            batches: Array(batches.prefix(options.limits.batches)),
            agents: Self.agents(agents, batches: batches),
            checkpoint: latest.map {
                IncidentReport.Custody.Checkpoint(
                    origin: $0.signed.checkpoint.origin,
                    treeSize: $0.signed.checkpoint.size,
                    rootHash: Data($0.signed.checkpoint.rootHash.bytes).base64EncodedString(),
                    verifierKey: nil
                )
            },
            lastVerify: nil
        )
    }

    /// The agents with their keys and, per epoch, the newest of `batches`.
    static func agents(
        _ agents: [AgentRecord],
        batches: [IncidentReport.Custody.Batch]
    ) -> [IncidentReport.Custody.Agent] {
        agents.sorted { $0.name < $1.name }.map { agent in
            var heads: [UInt64: IncidentReport.Custody.Batch] = [:]
            for batch in batches where batch.agent == agent.name {
                if heads[batch.epoch].map({ $0.sequence < batch.sequence }) ?? true { heads[batch.epoch] = batch }
            }
            return IncidentReport.Custody.Agent(
                name: agent.name,
                fingerprint: agent.fingerprint,
                enrolledNanos: agent.enrolledNanos,
                revokedNanos: agent.revokedNanos,
                chainHeads: heads.keys.sorted().compactMap { epoch in
                    heads[epoch].map { "e\($0.epoch)/s\($0.sequence) \($0.hash)" }
                }
            )
        }
    }

}
