import FlightlogAgent
import FlightlogTestSupport
import Foundation
import Testing

/// The parser against Filebeat on the lines of Filebeat's own module tests, field by field, with Filebeat's
/// `…-expected.json` as what Filebeat extracts (`Tests/Fixtures/filebeat/README.md` cites each file and its commit).
///
/// The stored logs and expected files are not always of one commit: Filebeat replaced test addresses with ones in its
/// GeoIP test database at different times, so an expected value may name an address the stored line does not hold.
/// A Filebeat value is compared only where it occurs in the line it is matched to; the others are counted apart as
/// "not comparable". A line is matched by the expected entry's `event.original`, else by its byte offset (`log.offset`,
/// `offset` in 2018's files), else by its position when the file and the expected list have as many entries.
@Suite("Filebeat's module test lines, field by field")
struct FilebeatComparisonTests {
    /// One log of Filebeat's module tests, `Tests/Fixtures/filebeat/<path>`, and whether its lines were seen while the
    /// parser was written (the auth module's `test.log` is in `RealLogTests.heldOut`; Apache's and nginx's `test.log`
    /// and nginx's `error.log` are cases of `RealWebLogTests`).
    struct Sample: Sendable {
        var path: String
        var seen: Bool
    }

    static let samples = [
        Sample(path: "system/auth/test.log", seen: true),
        Sample(path: "system/auth/timestamp.log", seen: false),
        Sample(path: "apache/access/test.log", seen: true),
        Sample(path: "apache/access/darwin-2.4.23.log", seen: false),
        Sample(path: "apache/access/ssl-request.log", seen: false),
        Sample(path: "apache/access/test-vhost.log", seen: false),
        Sample(path: "apache/error/test.log", seen: true),
        Sample(path: "apache/error/ubuntu-2.2.22.log", seen: false),
        Sample(path: "apache/error/sublevel.log", seen: false),
        Sample(path: "nginx/access/test.log", seen: true),
        Sample(path: "nginx/access/access.log", seen: false),
        Sample(path: "nginx/access/test-with-host.log", seen: false),
        Sample(path: "nginx/error/error.log", seen: true),
    ]

    /// One of the agent's fields and the Filebeat keys that carry the same thing, ECS names first, then 2018's; and
    /// keys whose value the field must never hold (the server's own address is not the client's).
    struct Mapping: Sendable {
        var field: String
        var filebeat: [String]
        var never: [String] = []
    }

    static let mappings = [
        Mapping(field: "user", filebeat: ["user.name", "system.auth.user"]),
        Mapping(
            field: "target_user",
            filebeat: ["user.target.name", "user.effective.name", "system.auth.sudo.user"]
        ),
        Mapping(
            field: "src_ip",
            filebeat: ["source.ip", "client.ip", "system.auth.ssh.ip", "system.auth.ssh.dropped_ip"],
            never: ["destination.ip"]
        ),
        Mapping(field: "src_host", filebeat: ["source.domain"], never: ["destination.domain"]),
        Mapping(field: "method", filebeat: ["http.request.method"]),
        Mapping(field: "url", filebeat: ["url.original"]),
        Mapping(field: "status", filebeat: ["http.response.status_code"]),
        Mapping(field: "program", filebeat: ["process.name"]),
        Mapping(field: "pid", filebeat: ["process.pid", "system.auth.pid"]),
    ]

    /// Counts for one field over some lines.
    struct Tally: CustomStringConvertible {
        /// Filebeat has a value the line holds.
        var filebeat = 0
        /// … and the agent the same value.
        var agreed = 0
        /// … and the agent none: less complete than Filebeat.
        var missing: [String] = []
        /// … and the agent another value.
        var wrong: [String] = []
        /// Filebeat has none and the agent has one.
        var more: [String] = []
        /// Filebeat has a value the stored line does not hold (the files are of different commits): what each says.
        var notComparable: [String] = []

        var description: String {
            "\(agreed)/\(filebeat) agreed, \(missing.count) missing, \(wrong.count) wrong, \(more.count) more"
                + (notComparable.isEmpty ? "" : ", \(notComparable.count) not comparable")
        }

        mutating func add(_ other: Tally) {
            filebeat += other.filebeat
            agreed += other.agreed
            missing += other.missing
            wrong += other.wrong
            more += other.more
            notComparable += other.notComparable
        }
    }

    /// The tallies of every mapped field over one sample, and how many lines were matched to Filebeat's entries.
    struct Score {
        var lines = 0
        var unmatched = 0
        var fields: [String: Tally] = [:]

        subscript(_ field: String) -> Tally { self.fields[field] ?? Tally() }

        mutating func add(_ other: Score) {
            lines += other.lines
            unmatched += other.unmatched
            for (field, tally) in other.fields { fields[field, default: Tally()].add(tally) }
        }

        func report(_ title: String) -> String {
            var text = "\(title): \(lines) lines matched, \(unmatched) expected entries without their line"
            for mapping in FilebeatComparisonTests.mappings where self.fields[mapping.field] != nil {
                text += "\n  \(mapping.field): \(self[mapping.field])"
                for line in self[mapping.field].missing { text += "\n    missing: \(line)" }
                for line in self[mapping.field].wrong { text += "\n    WRONG: \(line)" }
                for line in self[mapping.field].more { text += "\n    more: \(line)" }
                for line in self[mapping.field].notComparable { text += "\n    not comparable: \(line)" }
            }
            return text
        }
    }

    /// Filebeat's value for `key` as text, nil for none or for `-` (a log's "no value").
    static func value(_ entry: [String: Any], _ key: String) -> String? {
        switch entry[key] {
        case let text as String: return text == "-" ? nil : text
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }

    /// Scores the parser on one sample against its `-expected.json`, once with LF and once with CRLF line ends: the
    /// CRLF run must find exactly what the LF run finds.
    static func score(_ sample: Sample) throws -> Score {
        let directory = RepositoryFiles.fixtures.appendingPathComponent("filebeat")
        let raw = try Data(contentsOf: directory.appendingPathComponent(sample.path))
        let expectedData = try Data(contentsOf: directory.appendingPathComponent(sample.path + "-expected.json"))
        guard let expected = try JSONSerialization.jsonObject(with: expectedData) as? [[String: Any]] else {
            throw TestFailure("\(sample.path)-expected.json is not a list of objects")
        }
        var starts: [Int: Int] = [0: 0]
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for (offset, byte) in raw.enumerated() {
            if byte == UInt8(ascii: "\n") {
                lines.append(current)
                current = []
                starts[offset + 1] = lines.count
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { lines.append(current) }

        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        var score = Score()
        for (index, entry) in expected.enumerated() {
            let line: [UInt8]
            if let original = entry["event.original"] as? String {
                line = Array(original.utf8)
            } else if let offset = (entry["log.offset"] ?? entry["offset"]) as? Int, let number = starts[offset],
                number < lines.count
            {
                line = lines[number]
            } else if expected.count == lines.count {
                line = lines[index]
            } else {
                score.unmatched += 1
                continue
            }
            score.lines += 1
            let text = String(decoding: line, as: UTF8.self)
            let parsed = parser.parse(line, observedNanos: 1_550_000_000_000_000_000)
            let crlf = parser.parse(line + [UInt8(ascii: "\r")], observedNanos: 1_550_000_000_000_000_000)
            for mapping in Self.mappings {
                var tally = Tally()
                let ours = parsed[field: mapping.field]
                if crlf[field: mapping.field] != ours {
                    tally.wrong.append("with CRLF \(crlf[field: mapping.field] ?? "nil") for \(ours ?? "nil"): \(text)")
                }
                if let ours, mapping.never.contains(where: { Self.value(entry, $0) == ours }) {
                    tally.wrong.append("\(ours), which Filebeat reads as the server's: \(text)")
                }
                let theirs = mapping.filebeat.lazy.compactMap { Self.value(entry, $0) }.first
                if let theirs {
                    let caseless = mapping.field == "method"
                    guard text.range(of: theirs, options: caseless ? [.caseInsensitive] : []) != nil else {
                        tally.notComparable.append("Filebeat \(theirs), agent \(ours ?? "nil"): \(text)")
                        score.fields[mapping.field, default: Tally()].add(tally)
                        continue
                    }
                    tally.filebeat += 1
                    if let ours, caseless ? ours.lowercased() == theirs.lowercased() : ours == theirs {
                        tally.agreed += 1
                    } else if let ours {
                        tally.wrong.append("\(ours) for \(theirs): \(text)")
                    } else {
                        tally.missing.append("\(theirs): \(text)")
                    }
                } else if let ours {
                    tally.more.append("\(ours): \(text)")
                }
                score.fields[mapping.field, default: Tally()].add(tally)
            }
        }
        return score
    }

    static func total(_ samples: [Sample]) throws -> Score {
        var total = Score()
        for sample in samples {
            let score = try Self.score(sample)
            print(score.report("Filebeat \(sample.path)"))
            total.add(score)
        }
        return total
    }

    /// The lines nobody looked at while writing the parser: the other web logs and the auth module's `timestamp.log`.
    @Test func heldOutLines() throws {
        let score = try Self.total(Self.samples.filter { !$0.seen })
        print(score.report("Filebeat, held out, together"))
        #expect(score.lines >= 40, "the samples were read: \(score.lines) lines")
        for mapping in Self.mappings {
            #expect(score[mapping.field].wrong.isEmpty, "\(mapping.field): \(score[mapping.field].wrong.prefix(5))")
        }
        let addresses = score["src_ip"]
        #expect(addresses.filebeat >= 25, "\(addresses)")
        #expect(addresses.agreed * 100 >= addresses.filebeat * 98, "\(addresses)")
        for field in ["method", "url", "status"] {
            #expect(score[field].agreed * 100 >= score[field].filebeat * 98, "\(field): \(score[field])")
        }
    }

    /// Every sample, the auth module's `test.log` (seen) included.
    @Test func everySample() throws {
        let score = try Self.total(Self.samples)
        print(score.report("Filebeat, every sample"))
        for mapping in Self.mappings {
            #expect(score[mapping.field].wrong.isEmpty, "\(mapping.field): \(score[mapping.field].wrong.prefix(5))")
        }
        for field in ["user", "src_ip"] {
            #expect(score[field].filebeat > 0, "\(field): \(score[field])")
            #expect(score[field].agreed * 100 >= score[field].filebeat * 98, "\(field): \(score[field])")
        }
    }
}
