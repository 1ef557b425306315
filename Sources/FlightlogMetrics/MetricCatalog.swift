public import Prometheus

/// The Prometheus names, types and help texts of a program's named counters (the `[String: Int64]` snapshots that
/// `flightlog status` and the agent's `status.json` also show), so that one snapshot feeds both.
///
/// A key `base.suffix` (`errors_sent.windowExceeded`) is the series of `base` whose label (``Entry/label``) is
/// `suffix`. Keys no entry names are still exported, as gauges marked "not catalogued", so that a counter added in
/// code is never silently missing from a scrape; `docs/METRICS.md` lists every catalogued name.
public struct MetricCatalog: Sendable {
    /// One metric family.
    public struct Entry: Sendable {
        public enum Kind: Sendable {
            case counter
            case gauge
        }

        /// The full Prometheus name, `flightlog_…`, with `_total` on counters.
        public var name: String
        public var kind: Kind
        public var help: String
        /// The label the suffix of a `base.suffix` key goes to.
        public var label: String?
        /// Multiplies the raw value: 1e-6 for microseconds to seconds, 1e-9 for nanoseconds.
        public var scale: Double

        public init(_ name: String, _ kind: Kind, _ help: String, label: String? = nil, scale: Double = 1) {
            self.name = name
            self.kind = kind
            self.help = help
            self.label = label
            self.scale = scale
        }
    }

    /// The help text of an exported key no entry describes.
    public static let uncataloguedHelp = "not catalogued: see docs/METRICS.md"

    /// Entries by the raw key (or the `base` of `base.suffix` keys).
    public let entries: [String: Entry]
    /// The prefix of uncatalogued names.
    public let prefix: String

    public init(prefix: String, _ entries: [String: Entry]) {
        self.prefix = prefix
        self.entries = entries
    }

    /// Registers every value of `snapshot` in `registry`, with `labels` on each series. Unlabelled entries the
    /// snapshot lacks are registered at 0, so that an alert on `commit_failures` has a series before the first one.
    public func register<Value: BinaryInteger>(
        _ snapshot: [String: Value],
        labels: [(String, String)] = [],
        in registry: PrometheusCollectorRegistry
    ) {
        var snapshot = snapshot
        for (key, entry) in self.entries where entry.label == nil && snapshot[key] == nil { snapshot[key] = 0 }
        // Sorted, so that a family's series come out in the same order at every scrape.
        for (key, raw) in snapshot.sorted(by: { $0.key < $1.key }) {
            let base: Substring
            let suffix: Substring?
            if let dot = key.firstIndex(of: ".") {
                base = key[..<dot]
                suffix = key[key.index(after: dot)...]
            } else {
                base = key[...]
                suffix = nil
            }
            guard let entry = self.entries[String(base)] else {
                let name = self.prefix + key.map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
                registry.gauge(name, labels: labels, help: Self.uncataloguedHelp).set(Double(raw))
                continue
            }
            var series = labels
            if let label = entry.label { series.append((label, suffix.map(String.init) ?? "unknown")) }
            let value = Double(raw) * entry.scale
            switch entry.kind {
            case .counter:
                registry.counter(entry.name, labels: series, help: entry.help).increment(by: max(0, value))
            case .gauge:
                registry.gauge(entry.name, labels: series, help: entry.help).set(value)
            }
        }
    }
}

extension PrometheusCollectorRegistry {
    /// A counter by its full name (swift-prometheus wants a descriptor; the full name is its metric name).
    public func counter(_ name: String, labels: [(String, String)] = [], help: String) -> Counter {
        self.makeCounter(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
            labels: labels
        )
    }

    /// A gauge by its full name.
    public func gauge(_ name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        self.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
    }

    /// A histogram of durations by its full name, in seconds.
    public func durationHistogram(_ name: String, buckets: [Duration], help: String) -> DurationHistogram {
        self.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
            buckets: buckets
        )
    }
}
