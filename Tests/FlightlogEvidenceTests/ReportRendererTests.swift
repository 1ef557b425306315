import Crypto
import FlightlogEvidence
import Foundation
import Testing

/// The HTML report's renderer on its own: everything from the store escaped (element content, attributes, SVG
/// tooltips), the Content-Security-Policy naming the style sheet's hash and nothing else, and the page bounded.
@Suite("HTML report renderer")
struct ReportRendererTests {
    static let script = "<script>alert(1)</script>"
    static let breakout = "\"><img src=x onerror=alert(1)>"
    static let quotes = "it's \"quoted\" & 'single'"

    // MARK: - Escaping

    @Test func everyFieldIsEscaped() throws {
        let hostile = Self.script + Self.breakout + Self.quotes
        let html = ReportRenderer().render(Self.report(hostile: hostile))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
        #expect(html.contains("it&#39;s &quot;quoted&quot; &amp; &#39;single&#39;"))
        // Inside an attribute (the chart's aria-label) and an SVG tooltip, too.
        #expect(html.contains("aria-label=\"" + HTMLText.escape(hostile)))
        #expect(html.contains("<title>" + HTMLText.escape(hostile)))
        try Self.expectOnlyRendererMarkup(html)
    }

    @Test func escapingCoversAttributesAndText() {
        #expect(HTMLText.escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&#39;f")
        #expect(HTMLText.escape("plain text 203.0.113.77") == "plain text 203.0.113.77")
    }

    @Test func invisibleAndControlCharactersAreShown() {
        let line =
            "x\u{1B}[31mred\u{0}\u{7F}\u{85}\u{202E}evil\u{200B}" + String(decoding: [0xFF, 0x41], as: UTF8.self)
        let escaped = HTMLText.escape(line)
        #expect(escaped == "x[U+001B][31mred[U+0000][U+007F][U+0085][U+202E]evil[U+200B]\u{FFFD}A")
        let html = ReportRenderer().render(Self.report(hostile: line))
        #expect(!html.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) })
        #expect(!html.unicodeScalars.contains { $0.value == 0x202E })
    }

    @Test func longMessagesAreCut() {
        let text = String(repeating: "A", count: 5_000)
        let escaped = HTMLText.escape(text, limit: 2_000)
        #expect(escaped.hasPrefix(String(repeating: "A", count: 2_000) + "…"))
        #expect(escaped.hasSuffix("[3000 more characters]"))
    }

    // MARK: - Content-Security-Policy

    @Test func policyNamesTheStyleSheetHashAndNoScript() throws {
        let html = ReportRenderer().render(Self.report(hostile: "x"))
        let style = try #require(Self.between(html, "<style>", "</style>"))
        let hash = Data(SHA256.hash(data: Data(style.utf8))).base64EncodedString()
        let policy = try #require(Self.between(html, "http-equiv=\"Content-Security-Policy\" content=\"", "\""))
        #expect(
            policy
                == "default-src 'none'; style-src 'sha256-\(hash)'; img-src data:; base-uri 'none'; form-action 'none'"
        )
        #expect(!policy.contains("unsafe"))
        #expect(!policy.contains("script-src"))
        // One style element, before which the policy stands; no style attribute, no external address.
        #expect(html.components(separatedBy: "<style").count == 2)
        let policyAt = try #require(html.range(of: "Content-Security-Policy")).lowerBound
        #expect(policyAt < (try #require(html.range(of: "<style>")).lowerBound))
        #expect(!html.contains(" style=\""))
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("//"))
    }

    // MARK: - Bounds

    @Test func sectionsAreBounded() throws {
        var report = Self.report(hostile: "x")
        let start: Int64 = 1_795_600_000_000_000_000
        report.totalEvents = 100_000
        report.events = (0..<1_000).map {
            Self.event(id: Int64($0), time: start + Int64($0) * 1_000_000_000, "line \($0)")
        }
        report.markers = (0..<1_000).map {
            IncidentReport.Marker(
                kind: .silence,
                timeNanos: start + Int64($0),
                agent: "cc-ws-001",
                detail: "quiet \($0)"
            )
        }
        report.chart = IncidentReport.Chart(
            startNanos: start,
            bucketNanos: 60_000_000_000,
            series: (0..<50).map {
                IncidentReport.Chart.Series(host: "host-\($0)", counts: [Int](repeating: 7, count: 1_000))
            }
        )
        report.hunt.matched[0].count = 5_000
        report.hunt.matched[0].events = Array(report.events.prefix(100))
        let html = ReportRenderer().render(report)
        let timeline = try #require(Self.between(html, "<section id=\"timeline\">", "</section>"))
        #expect(timeline.components(separatedBy: "<td class=\"msg\">").count - 1 == 500)
        #expect(timeline.contains("… and 99500 more events"))
        #expect(html.contains("… and 800 more gaps, silences and findings."))
        let hunt = try #require(Self.between(html, "<section id=\"hunt\">", "</section>"))
        #expect(hunt.components(separatedBy: "<td class=\"msg\">").count - 1 == 20)
        #expect(hunt.contains("… and 4980 more matching events."))
        let charts = try #require(Self.between(html, "<section id=\"activity\">", "</section>"))
        #expect(charts.components(separatedBy: "<svg").count - 1 == 24)
        #expect(charts.components(separatedBy: "class=\"bar\"").count - 1 <= 24 * 96)
        #expect(charts.contains("… and 26 more hosts"))
        #expect(html.utf8.count < 2_000_000, "\(html.utf8.count) bytes")
    }

    @Test func rendersNoHuntAndWithoutBundle() {
        var report = Self.report(hostile: "x")
        report.hunt = .none
        report.custody.bundleDirectory = nil
        let html = ReportRenderer().render(report)
        #expect(html.contains("No hunt was run for this report"))
        #expect(html.contains("--rules aggregator/rules"))
        #expect(html.contains("written on its own, outside an evidence bundle"))
    }

    // MARK: - Helpers

    /// Every tag in the page is one the renderer writes, with only the attributes it writes: a log line that
    /// became markup would show up here.
    static func expectOnlyRendererMarkup(_ html: String) throws {
        let tags: Set<String> = [
            "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "dl", "dt", "dd",
            "section", "div", "b", "span", "table", "thead", "tbody", "tr", "th", "td", "svg", "rect", "line", "text",
            "code", "pre", "ul", "li", "br", "footer",
        ]
        let attributes: Set<String> = [
            "lang", "charset", "http-equiv", "content", "name", "class", "id", "colspan", "viewbox", "role",
            "aria-label", "x", "y", "x1", "y1", "x2", "y2", "width", "height", "text-anchor",
        ]
        let tag = try Regex(#"<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>/]+(?:="[^"]*")?)*)\s*/?>"#)
        let attribute = try Regex(#"([^\s=>/]+)(?:="[^"]*")?"#)
        for match in html.matches(of: tag) {
            let name = String(match.output[1].substring ?? "").lowercased()
            #expect(tags.contains(name), "unexpected element <\(name)>")
            for found in String(match.output[2].substring ?? "").matches(of: attribute) {
                let key = String(found.output[1].substring ?? "").lowercased()
                #expect(attributes.contains(key), "unexpected attribute \(key) on <\(name)>")
            }
        }
        // Nothing looks like the start of a tag but these.
        #expect(html.components(separatedBy: "<").count - 1 == html.matches(of: tag).count + Self.closingTags(html))
    }

    static func closingTags(_ html: String) -> Int {
        html.components(separatedBy: "</").count - 1 + html.components(separatedBy: "<!DOCTYPE").count - 1
    }

    static func between(_ text: String, _ start: String, _ end: String) -> String? {
        guard let from = text.range(of: start), let to = text.range(of: end, range: from.upperBound..<text.endIndex)
        else { return nil }
        return String(text[from.upperBound..<to.lowerBound])
    }

    static func event(id: Int64, time: Int64, _ message: String, hostile: String = "mchen") -> IncidentReport.Event {
        IncidentReport.Event(
            id: id,
            timeNanos: time,
            host: hostile,
            agent: hostile,
            program: hostile,
            user: hostile,
            sourceIP: hostile,
            message: message,
            batch: "e1/s1",
            rules: [hostile]
        )
    }

    /// A report with `hostile` in every string it has.
    static func report(hostile: String) -> IncidentReport {
        let start: Int64 = 1_795_600_000_000_000_000
        let event = Self.event(id: 1, time: start + 30_000_000_000, hostile, hostile: hostile)
        return IncidentReport(
            windowStart: start,
            windowEnd: start + 3_600_000_000_000,
            filters: ["user=" + hostile],
            agents: [hostile],
            generatedNanos: start + 7_200_000_000_000,
            generatedBy: hostile,
            generator: "flightlog export (test)",
            totalEvents: 1,
            events: [event],
            markers: [
                IncidentReport.Marker(kind: .gap, timeNanos: start + 1, agent: hostile, detail: hostile),
                IncidentReport.Marker(kind: .silence, timeNanos: start + 2, agent: hostile, detail: hostile),
                IncidentReport.Marker(kind: .finding, timeNanos: start + 3, agent: hostile, detail: hostile),
            ],
            chart: IncidentReport.Chart(
                startNanos: start,
                bucketNanos: 60_000_000_000,
                series: [IncidentReport.Chart.Series(host: hostile, counts: [0, 1, 3, 0])]
            ),
            hunt: IncidentReport.Hunt(
                paths: [hostile],
                rulesLoaded: 2,
                rulesRun: 1,
                matched: [
                    IncidentReport.Hunt.Rule(
                        title: hostile,
                        level: hostile,
                        file: hostile,
                        correlation: false,
                        count: 1,
                        hits: [hostile],
                        events: [event]
                    )
                ],
                notRun: [IncidentReport.Hunt.NotRun(title: hostile, reason: hostile)]
            ),
            custody: IncidentReport.Custody(
                bundleDirectory: hostile,
                database: hostile,
                command: ["flightlog", hostile],
                batchCount: 1,
                batches: [
                    IncidentReport.Custody.Batch(
                        agent: hostile,
                        epoch: 1,
                        sequence: 1,
                        hash: hostile,
                        receivedNanos: start,
                        leafIndex: 0
                    )
                ],
                agents: [
                    IncidentReport.Custody.Agent(
                        name: hostile,
                        fingerprint: hostile,
                        enrolledNanos: start,
                        revokedNanos: nil,
                        chainHeads: [hostile]
                    )
                ],
                checkpoint: IncidentReport.Custody.Checkpoint(
                    origin: hostile,
                    treeSize: 1,
                    rootHash: hostile,
                    verifierKey: hostile
                ),
                lastVerify: hostile
            )
        )
    }
}
