import ArgumentParser
import FlightlogEvidence
import FlightlogStore
import Foundation

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count events by host, user, program or IP per time bucket, and highlight what is unusual.",
        discussion: """
            Takes the same filters as `flightlog query`. Highlights:
              spike             a bucket above 3× the median of that key's own buckets (at least 5 events;
                                needs 3 or more buckets)
              new_user_on_host  a user seen on a host for the first time (needs --since: "new" means not
                                seen before it)
              new_ip_for_user   a source IP seen for a user for the first time (needs --since)
              off_hours         an hour with activity outside --work-hours, in --tz (default UTC)

            Exit status: 0 when events were counted, 1 when none matched, 2 on an error. Recorded in the audit \
            trail.

            Examples:
              flightlog stats --db flightlog.db --by host --bucket 1h --since 2026-11-24
              flightlog stats --db flightlog.db --by user.name --bucket 15m --since 6h --work-hours 07-19 --tz Europe/Paris
              flightlog stats --db flightlog.db --by source.ip --bucket 1d --since 7d --format jsonl
              flightlog stats --store postgres://flightlog@db1/flightlog --by host --since 1d
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var filters: EventFilterOptions

    @Option(
        help: """
            Group by host (the agent's), user.name, process.name or source.ip; user, program and ip are aliases. \
            Example: --by user.name
            """
    )
    var by: StatsKeyArgument = .host

    @Option(help: ArgumentHelp("Bucket width. Example: --bucket 1h", valueName: "duration"))
    var bucket: String = "1h"

    @Option(help: ArgumentHelp("Working hours, HH-HH, in --tz. Example: --work-hours 07-19", valueName: "range"))
    var workHours: String = "07-19"

    @OptionGroup var timeZone: TimeZoneOptions

    @Option(help: "Output format: table or jsonl. Example: --format jsonl")
    var format: ListFormat = .table

    func run() async throws {
        try await Investigation.run { try self.investigate() }
    }

    private func investigate() throws {
        let query: EventQuery
        let bucketNanos: Int64
        do {
            query = try self.filters.query(now: nowNanos())
            bucketNanos = try TimeExpression.parseDuration(self.bucket)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let parts = self.workHours.split(separator: "-").compactMap { Int($0) }
        guard bucketNanos > 0, parts.count == 2, (0...24).contains(parts[0]), (0...24).contains(parts[1]),
            parts[0] < parts[1]
        else {
            Output.error("--bucket must be positive and --work-hours must read HH-HH, e.g. 07-19")
            throw ExitCode(2)
        }
        let times = try self.timeZone.formatter()
        let zone = times.zone
        let hours = WorkHours(startHour: parts[0], endHour: parts[1]) { nanos in
            zone?.secondsFromGMT(for: Date(timeIntervalSince1970: Double(nanos / 1_000_000_000))) ?? 0
        }
        let investigated = try Investigation.open(self.database, self.store)
        defer { investigated.close() }
        let store = investigated.reader
        let report: StatsReport
        do {
            report = try store.stats(query, by: self.by.key, bucketNanos: bucketNanos, workHours: hours)
        } catch {
            try investigated.fail("stats", error)
        }
        let out = BufferedWriter.standardOutput()
        switch self.format {
        case .table:
            var rows = [[self.by.rawValue.uppercased(), "BUCKET", "COUNT", "NOTE"]]
            for bucket in report.buckets {
                rows.append([
                    EventPrinter.printable(bucket.key), times.format(bucket.startNanos), String(bucket.count),
                    bucket.spike ? "SPIKE" : "",
                ])
            }
            out.write(Output.table(rows) + "\n")
            if !report.notes.isEmpty { out.write("\nUnusual:\n") }
            for note in report.notes {
                out.write(
                    "  \(times.format(note.timeNanos))  \(note.kind.rawValue)  \(EventPrinter.printable(note.detail))\n"
                )
            }
        case .jsonl:
            for bucket in report.buckets {
                var line: [UInt8] = Array("{\"type\":\"bucket\",\"by\":\"\(self.by.rawValue)\",\"key\":".utf8)
                FieldsJSON.appendString(bucket.key, to: &line)
                line +=
                    ",\"start\":\"\(times.format(bucket.startNanos))\",\"count\":\(bucket.count),\"spike\":\(bucket.spike)}\n"
                    .utf8
                out.write(line)
            }
            for note in report.notes {
                var line: [UInt8] = Array(
                    "{\"type\":\"\(note.kind.rawValue)\",\"time\":\"\(times.format(note.timeNanos))\",\"detail\":".utf8
                )
                FieldsJSON.appendString(note.detail, to: &line)
                line += "}\n".utf8
                out.write(line)
            }
        }
        do { _ = try out.finish() } catch { try investigated.fail("stats", error) }
        try investigated.audit(
            "stats",
            count: report.total,
            outcome: report.total > 0 ? "ok" : "no match"
        )
        if report.total == 0 { throw ExitCode(1) }
    }
}

/// What `--by` groups on: the agent's host, or a parsed column named by its ECS name or its short alias.
enum StatsKeyArgument: String, ExpressibleByArgument, CaseIterable {
    case host
    case user = "user.name"
    case program = "process.name"
    case ip = "source.ip"

    init?(argument: String) {
        switch argument.lowercased() {
        case "host", "host.name": self = .host
        case "user", "user.name": self = .user
        case "program", "process.name": self = .program
        case "ip", "src_ip", "source.ip": self = .ip
        default: return nil
        }
    }

    static var allValueStrings: [String] { ["host", "user.name", "process.name", "source.ip"] }

    var key: StatsKey {
        switch self {
        case .host: .host
        case .user: .user
        case .program: .program
        case .ip: .ip
        }
    }
}
