import FlightlogAgent
import Foundation

/// The agent's line parser alone, on one core: `lines` generated lines of three formats (classic syslog, RFC 5424,
/// ISO timestamps), each format timed on its own, then all of them ten times over.
func parserThroughput(lines count: Int) throws {
    let parser = LineParser(timeZone: TimeZone(identifier: "Europe/Berlin") ?? .current)
    if var corpus = try BenchCorpus.named() {
        // One corpus, parsed ten times over (under callgrind, the instructions inside `LineParser.parse` per line).
        let lines = (0..<count).map { _ in corpus.lineBytes() }
        try parseRounds(parser, lines, label: "\(corpus.name) corpus")
        return
    }
    let templates = [
        "Nov 24 10:00:%02d ws-602 sshd[4242]: Accepted password for mchen from 203.0.113.77 port 52113 ssh2 session=%06d extra padding to make the line about two hundred bytes long",
        "<86>1 2026-11-24T10:00:%02d.123456+01:00 ws-602 app 1234 ID47 [meta@1 seq=\"%06d\"] customer record viewed by agent mchen in queue billing-escalations with ticket",
        "2026-11-24T10:00:%02d.123456+01:00 ws-602 crm-client[881]: request %06d GET /api/v2/customers/88231/records status=200 bytes=18234 duration_ms=41 user=mchen",
    ]
    let lines: [[UInt8]] = (0..<count).map { index in
        Array(String(format: templates[index % templates.count], index % 60, index).utf8)
    }
    for (number, template) in templates.enumerated() {
        let sample = lines.enumerated().filter { $0.offset % templates.count == number }.map(\.element)
        let took = ContinuousClock().measure {
            for line in sample { _ = parser.parse(line, observedNanos: 1_795_521_600_000_000_000) }
        }
        let rate =
            Double(sample.count) / (Double(took.components.attoseconds) / 1e18 + Double(took.components.seconds))
        print("LineParser template \(number): \(Int(rate)) lines/s (\(template.prefix(30)))")
    }
    try parseRounds(parser, lines, label: "three formats")
}

/// Parses `lines` ten times over and prints the rate.
func parseRounds(_ parser: LineParser, _ lines: [[UInt8]], label: String) throws {
    let averageLength = lines.map(\.count).reduce(0, +) / max(lines.count, 1)
    var fieldCount = 0
    let clock = ContinuousClock()
    let rounds = 10
    let elapsed = clock.measure {
        for _ in 0..<rounds {
            for line in lines {
                fieldCount &+= parser.parse(line, observedNanos: 1_795_521_600_000_000_000).fields.count
            }
        }
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let perSecond = Double(lines.count * rounds) / seconds
    print("LineParser (\(label)): \(Int(perSecond)) lines/s, average \(averageLength) bytes, fields \(fieldCount)")
    // A parser that found no field in these lines would be measuring nothing.
    guard fieldCount > 0 else { throw BenchError("the parser found no field in \(lines.count) lines") }
}
