import Foundation

extension ReportRenderer {
    // MARK: - Events over time

    /// One inline SVG bar chart per host (the busiest ``ReportLimits/chartHosts``), buckets merged down to
    /// ``ReportLimits/chartBuckets`` bars, with the host's gaps, silences and findings as ticks under the axis.
    func charts(_ report: IncidentReport, into html: inout String) {
        html += "<section id=\"activity\">\n<h2>Events over time per host</h2>\n"
        let chart = report.chart
        let width = chart.series.map(\.counts.count).max() ?? 0
        guard width > 0, chart.bucketNanos > 0 else {
            html += "<p>No events to chart.</p>\n</section>\n"
            return
        }
        let limit = max(self.limits.chartBuckets, 1)
        let factor = (width + limit - 1) / limit
        let buckets = (width + factor - 1) / factor
        let bucketNanos = chart.bucketNanos.multipliedReportingOverflow(by: Int64(factor)).partialValue
        let ranked = chart.series.sorted {
            ($0.counts.reduce(0, +), $1.host) > ($1.counts.reduce(0, +), $0.host)
        }
        let shown = ranked.prefix(self.limits.chartHosts).sorted { $0.host < $1.host }
        let end = chart.startNanos.addingReportingOverflow(
            bucketNanos.multipliedReportingOverflow(by: Int64(buckets)).partialValue
        ).partialValue
        html +=
            "<p>Selected events per \(Self.text(Self.duration(bucketNanos))), \(Self.text(Self.time(chart.startNanos)))"
        html += " → \(Self.text(Self.time(end))). Ticks under a chart mark its agent's gaps (amber), silences (grey) "
        html += "and findings (red).</p>\n"
        for series in shown {
            var merged = [Int](repeating: 0, count: buckets)
            for (index, count) in series.counts.enumerated() { merged[index / factor] += count }
            let marks = report.markers.filter { $0.agent == series.host }.prefix(self.limits.markers)
            html += self.svg(
                host: series.host,
                counts: merged,
                start: chart.startNanos,
                bucketNanos: bucketNanos,
                marks: Array(marks)
            )
        }
        self.more(ranked.count - shown.count, "more hosts, with fewer events, not charted", into: &html)
        html += "</section>\n"
    }

    private func svg(
        host: String,
        counts: [Int],
        start: Int64,
        bucketNanos: Int64,
        marks: [IncidentReport.Marker]
    ) -> String {
        let (left, plot, top, height) = (8.0, 944.0, 24.0, 70.0)
        let total = counts.reduce(0, +)
        let peak = max(counts.max() ?? 0, 1)
        let barWidth = plot / Double(counts.count)
        let label = "\(host): \(total) events"
        var svg =
            "<div class=\"chart\">\n<svg viewBox=\"0 0 960 128\" role=\"img\" aria-label=\"\(Self.text(label))\">\n"
        svg += "<title>\(Self.text(label))</title>\n"
        svg += "<text class=\"host\" x=\"\(Int(left))\" y=\"15\">\(Self.text(host))</text>"
        svg +=
            "<text class=\"label\" x=\"952\" y=\"15\" text-anchor=\"end\">\(total) events, peak \(peak) per bar</text>\n"
        for (index, count) in counts.enumerated() where count > 0 {
            let barHeight = max(1.5, height * Double(count) / Double(peak))
            let from = start &+ bucketNanos &* Int64(index)
            let tip = "\(host) \(Self.time(from)) → \(Self.time(from &+ bucketNanos)): \(count) events"
            svg += "<rect class=\"bar\" x=\"\(Self.number(left + barWidth * Double(index)))\" "
            svg += "y=\"\(Self.number(top + height - barHeight))\" width=\"\(Self.number(max(barWidth - 1, 0.5)))\" "
            svg += "height=\"\(Self.number(barHeight))\"><title>\(Self.text(tip))</title></rect>\n"
        }
        let axis = top + height
        svg += "<line class=\"axis\" x1=\"\(Int(left))\" y1=\"\(Int(axis))\" x2=\"\(Int(left + plot))\" "
        svg += "y2=\"\(Int(axis))\"/>\n"
        let span = Double(bucketNanos) * Double(counts.count)
        for mark in marks {
            let offset = Double(mark.timeNanos) - Double(start)
            guard span > 0, offset >= 0, offset <= span else { continue }
            let x = left + plot * offset / span
            svg += "<rect class=\"mark-\(mark.kind.rawValue)\" x=\"\(Self.number(x - 2))\" y=\"\(Int(axis + 2))\" "
            svg += "width=\"4\" height=\"9\"><title>\(mark.kind.label) \(Self.text(Self.time(mark.timeNanos))): "
            svg += "\(Self.text(mark.detail))</title></rect>\n"
        }
        let end = start &+ bucketNanos &* Int64(counts.count)
        svg += "<text class=\"label\" x=\"\(Int(left))\" y=\"124\">\(Self.text(Self.time(start)))</text>"
        svg += "<text class=\"label\" x=\"952\" y=\"124\" text-anchor=\"end\">\(Self.text(Self.time(end)))</text>\n"
        svg += "</svg>\n</div>\n"
        return svg
    }

    // MARK: - Hunt

    func hunt(_ report: IncidentReport, into html: inout String) {
        html += "<section id=\"hunt\">\n<h2>Matched hunt rules</h2>\n"
        let hunt = report.hunt
        guard !hunt.paths.isEmpty else {
            html += "<p>No hunt was run for this report. To include one, export with Sigma rules, e.g. "
            html += "<code>flightlog export … --rules aggregator/rules --out DIR</code>, or run "
            html += "<code>flightlog hunt --rules aggregator/rules</code> with the same filters.</p>\n</section>\n"
            return
        }
        html += "<p>\(hunt.rulesLoaded) rules loaded from \(Self.text(hunt.paths.joined(separator: ", "))), "
        html += "\(hunt.rulesRun) run over the selected events, \(hunt.matched.count) matched.</p>\n"
        for rule in hunt.matched {
            let unit = rule.correlation ? (rule.count == 1 ? "hit" : "hits") : (rule.count == 1 ? "match" : "matches")
            html += "<div class=\"rule\">\n<h3><span class=\"tag rule\">RULE</span>\(Self.text(rule.title))"
            if let level = rule.level { html += " <span class=\"sub\">[\(Self.text(level))]</span>" }
            html += "</h3>\n<p class=\"sub\">\(rule.count) \(unit) · <span class=\"mono\">\(Self.text(rule.file))"
            html += "</span></p>\n"
            for hit in rule.hits.prefix(self.limits.hitsPerRule) { html += "<p>\(Self.text(hit))</p>\n" }
            if rule.correlation { self.more(rule.count - self.limits.hitsPerRule, "more hits", into: &html) }
            let events = rule.events.prefix(self.limits.eventsPerRule)
            if !events.isEmpty {
                html += "<table>\n<thead><tr><th>Time (UTC)</th><th>Host</th><th>Program</th><th>User</th>"
                html += "<th>Source IP</th><th>Message</th></tr></thead>\n<tbody>\n"
                for event in events { html += self.row(event, ruleTags: false) }
                html += "</tbody>\n</table>\n"
            }
            if !rule.correlation {
                self.more(rule.count - events.count, "more matching events", into: &html)
            }
            html += "</div>\n"
        }
        if !hunt.notRun.isEmpty {
            html += "<h3>Rules not run</h3>\n<ul>\n"
            for rule in hunt.notRun.prefix(self.limits.markers) {
                html += "<li>\(Self.text(rule.title)): \(Self.text(rule.reason))</li>\n"
            }
            html += "</ul>\n"
            self.more(hunt.notRun.count - self.limits.markers, "more rules not run", into: &html)
        }
        html += "</section>\n"
    }

    // MARK: - Custody and verification

    func custody(_ report: IncidentReport, into html: inout String) {
        let custody = report.custody
        html += "<section id=\"custody\">\n<h2>Chain of custody</h2>\n<dl class=\"meta\">\n"
        var facts: [(String, String)] = [
            ("Exported", Self.time(report.generatedNanos) + " by " + report.generatedBy),
            ("Exporter", report.generator),
            ("Command", custody.command.joined(separator: " ")),
            ("Database", custody.database),
            ("Bundle", custody.bundleDirectory ?? "none: this report was written on its own"),
            ("Signed batches", String(custody.batchCount)),
        ]
        if let checkpoint = custody.checkpoint {
            facts.append(("Checkpoint", "\(checkpoint.origin), tree size \(checkpoint.treeSize)"))
            facts.append(("Tree root", checkpoint.rootHash))
            if let key = checkpoint.verifierKey { facts.append(("Aggregator key", key)) }
        } else {
            facts.append(("Checkpoint", "none"))
        }
        facts.append(("Last verify", custody.lastVerify ?? "no flightlog verify run recorded"))
        for (name, value) in facts {
            let mono = ["Command", "Tree root", "Aggregator key"].contains(name) ? " class=\"mono\"" : ""
            html += "<dt>\(name)</dt><dd\(mono)>\(Self.text(value))</dd>\n"
        }
        html += "</dl>\n"
        if !custody.agents.isEmpty {
            html += "<h3>Agents and keys</h3>\n<table>\n<thead><tr><th>Agent</th><th>Key fingerprint</th>"
            html += "<th>Enrolled</th><th>Revoked</th><th>Chain heads in this selection</th></tr></thead>\n<tbody>\n"
            for agent in custody.agents {
                html += "<tr><td>\(Self.text(agent.name))</td><td class=\"mono\">\(Self.text(agent.fingerprint))</td>"
                html += "<td class=\"time\">\(Self.text(Self.time(agent.enrolledNanos)))</td>"
                html += "<td class=\"time\">\(Self.text(agent.revokedNanos.map(Self.time) ?? "–"))</td>"
                html += "<td class=\"mono\">\(agent.chainHeads.map(Self.text).joined(separator: "<br>"))</td></tr>\n"
            }
            html += "</tbody>\n</table>\n"
        }
        if !custody.batches.isEmpty {
            html += "<h3>Signed batches</h3>\n<table>\n<thead><tr><th>Agent</th><th>Batch</th><th>SHA-256</th>"
            html += "<th>Received (UTC)</th><th>Log leaf</th></tr></thead>\n<tbody>\n"
            for batch in custody.batches.prefix(self.limits.batches) {
                html += "<tr><td>\(Self.text(batch.agent))</td><td class=\"mono\">e\(batch.epoch)/s\(batch.sequence)"
                html += "</td><td class=\"mono\">\(Self.text(batch.hash))</td>"
                html += "<td class=\"time\">\(Self.text(batch.receivedNanos.map(Self.time) ?? "–"))</td>"
                html += "<td>\(batch.leafIndex.map(String.init) ?? "–")</td></tr>\n"
            }
            html += "</tbody>\n</table>\n"
            let rest = max(custody.batchCount, custody.batches.count) - min(custody.batches.count, self.limits.batches)
            self.more(rest, "more batches (manifest.json lists every one)", into: &html)
        }
        html += "</section>\n"
    }

    func verification(_ report: IncidentReport, into html: inout String) {
        html += "<section id=\"verify\">\n<h2>How to verify this bundle</h2>\n"
        guard let directory = report.custody.bundleDirectory else {
            html += "<p>This report was written on its own, outside an evidence bundle: nothing in it can be checked, "
            html += "and it is a view of the database, not evidence. For evidence, export a bundle with the same "
            html +=
                "filters and check it offline:</p>\n<pre>flightlog export --db \(Self.text(report.custody.database))"
            html += " … --out DIR\nflightlog verify-bundle DIR --aggregator-key AGGREGATOR-KEY.pub</pre>\n</section>\n"
            return
        }
        html +=
            "<p>This page is a view of the evidence bundle in <code>\(Self.text(directory))</code>; the evidence is "
        html += "its signed batches and events.jsonl. Check the whole bundle offline, without the database, with a "
        html += "copy of the aggregator's verifier key obtained out of band:</p>\n"
        html += "<pre>flightlog verify-bundle \(Self.text(directory)) --aggregator-key AGGREGATOR-KEY.pub\n"
        html += "flightlog verify --bundle \(Self.text(directory)) --aggregator-key AGGREGATOR-KEY.pub   "
        html += "# the same check</pre>\n"
        html += "<p>It checks the SHA-256 of every file against manifest.json (this report.html included), every "
        html += "batch's Ed25519 signature against keys.json, that each event in events.jsonl is byte for byte the "
        html += "event inside its signed batch, the signature of checkpoint.txt, and each batch's inclusion proof "
        html += "against the checkpoint's root. Exit status 0 means all of that holds. Write the SHA-256 of "
        html += "manifest.json that <code>flightlog export</code> printed in the case notes: it pins every file, this "
        html += "page too. Without <code>--aggregator-key</code> the checkpoint is only checked against the bundle's "
        html += "own aggregator.pub.</p>\n</section>\n"
    }

    // MARK: - Numbers

    /// A coordinate with at most two decimals.
    static func number(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// A bucket length in the largest whole unit: `15 min`, `1 h`, `2 days`.
    static func duration(_ nanos: Int64) -> String {
        let seconds = nanos / 1_000_000_000
        let units: [(Int64, String)] = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
        for (unit, name) in units where seconds >= unit && seconds % unit == 0 {
            let count = seconds / Int64(unit)
            return count == 1 ? name : "\(count) \(name)s"
        }
        return seconds == 1 ? "second" : "\(seconds) seconds"
    }
}
