import ArgumentParser
import FlightlogEvidence
import FlightlogStore

struct TimelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract:
            "One chronological stream across hosts, with batch, verification state, gaps, silences and clock skew.",
        discussion: """
            Takes the same filters as `flightlog query`. Each event line shows its time, host, agent, the epoch and \
            sequence of the signed batch holding it, and its verification state. Today that state is \
            "signed-stored": the aggregator verified the batch's Ed25519 signature and chain link when it arrived, \
            then stored it; the timeline does not re-verify (that is `flightlog verify`).

            Markers between events: GAP where an agent's chain is missing batches, SILENT where an agent's stored \
            batches hold no events for longer than --silence, FINDING for other integrity findings (equivocation, \
            broken link, new epoch, late or rejected batch). A note at the top gives each agent's clock skew as \
            measured at its last handshake (agent clock minus aggregator clock).

            Exit status: 0 when events were shown, 1 when none matched, 2 on an error. Recorded in the audit trail.

            Examples:
              flightlog timeline --db flightlog.db --match mchen --since 11:00 --until 12:00
              flightlog timeline --db flightlog.db --since 2026-11-24T09:00Z --until 2026-11-24T12:00Z --silence 15m
              flightlog timeline --db flightlog.db --user mchen --format jsonl | jq 'select(.type != "event")'
              flightlog timeline --store postgres://flightlog@db1/flightlog --read-replica postgres://flightlog@db2/flightlog --user mchen --since 6h
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var filters: EventFilterOptions

    @Option(
        help: ArgumentHelp(
            "Mark an agent silent after this long without events; 0 turns it off. Example: --silence 10m",
            valueName: "duration"
        )
    )
    var silence: String = "10m"

    @Option(help: "At most this many events. Example: --limit 500")
    var limit: Int?

    @Option(help: "Output format: text or jsonl. Example: --format jsonl")
    var format: TimelineFormat = .text

    @OptionGroup var timeZone: TimeZoneOptions

    enum TimelineFormat: String, ExpressibleByArgument, CaseIterable {
        case text
        case jsonl
    }

    static let verification = "signed-stored"

    func validate() throws {
        if let limit = self.limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        try await Investigation.run { try self.investigate() }
    }

    private func investigate() throws {
        var query: EventQuery
        let silenceNanos: Int64
        do {
            query = try self.filters.query(now: nowNanos())
            silenceNanos = try TimeExpression.parseDuration(self.silence)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        query.limit = self.limit
        let times = try self.timeZone.formatter()
        let investigated = try Investigation.open(self.database, self.store)
        defer { investigated.close() }
        let store = investigated.reader
        Terminal.ignoreBrokenPipe()
        let out = BufferedWriter.standardOutput()
        let width = self.format == .text ? Terminal.width() : nil
        var shown = 0
        do {
            let context = try store.timelineContext(query, silenceNanos: silenceNanos > 0 ? silenceNanos : nil)
            self.writeNotes(context, out: out, times: times)
            var markers = context.markers[...]
            func flushMarkers(upTo time: Int64?) {
                while let marker = markers.first, time.map({ marker.timeNanos < $0 }) ?? true {
                    self.write(marker, out: out, times: times)
                    markers = markers.dropFirst()
                }
            }
            shown = try store.forEachEvent(query) { event in
                flushMarkers(upTo: event.time(on: query.clock))
                self.write(event, clock: query.clock, out: out, times: times, width: width)
                return !out.isBroken
            }
            flushMarkers(upTo: nil)
            _ = try out.finish()
        } catch {
            try investigated.fail("timeline", error)
        }
        try investigated.audit(
            "timeline",
            count: shown,
            outcome: shown > 0 ? "ok" : "no match"
        )
        if shown == 0 { throw ExitCode(1) }
    }

    private func writeNotes(_ context: TimelineContext, out: BufferedWriter, times: TimeFormatter) {
        for agent in context.agents {
            let skew =
                agent.lastSkewNanos.map { nanos in
                    nanos == 0
                        ? "in step with the aggregator"
                        // describe() takes the magnitude itself: abs(−2^63), a skew an agent can report, traps.
                        : "\(DurationText.describe(nanos).drop { $0 == "-" }) \(nanos > 0 ? "ahead of" : "behind") "
                            + "the aggregator"
                } ?? "unknown (no handshake recorded)"
            switch self.format {
            case .text:
                out.write("# clock: \(agent.name): agent clock \(skew) at its last handshake\n")
            case .jsonl:
                var line: [UInt8] = Array("{\"type\":\"skew\",\"agent\":".utf8)
                FieldsJSON.appendString(agent.name, to: &line)
                line += ",\"skew_ns\":\(agent.lastSkewNanos.map { String($0) } ?? "null"),\"note\":".utf8
                FieldsJSON.appendString(skew, to: &line)
                line += "}\n".utf8
                out.write(line)
            }
        }
        if self.format == .text {
            out.write(
                "# verification: \(Self.verification) = signature and chain link checked by the aggregator on arrival; not re-verified here\n"
            )
            out.write(
                "TIME" + String(repeating: " ", count: times.zone == nil ? 28 : 33)
                    + "HOST            AGENT           BATCH       STATE          MESSAGE\n"
            )
        }
    }

    private func write(
        _ event: EventRecord,
        clock: EventQuery.Clock,
        out: BufferedWriter,
        times: TimeFormatter,
        width: Int?
    ) {
        switch self.format {
        case .text:
            let cells = [
                times.format(event.time(on: clock)), EventPrinter.fit(EventPrinter.printable(event.host), 14),
                EventPrinter.fit(EventPrinter.printable(event.agent), 14),
                EventPrinter.fit("e\(event.epoch)/s\(event.sequence)", 10), EventPrinter.fit(Self.verification, 13),
            ]
            var message = EventPrinter.printable(event.displayedLine)
            let prefix = cells.joined(separator: "  ") + "  "
            if let width { message = EventPrinter.truncate(message, max(10, width - prefix.count)) }
            out.write(prefix + message + "\n")
        case .jsonl:
            var line: [UInt8] = Array("{\"type\":\"event\",\"verification\":\"\(Self.verification)\",\"event\":".utf8)
            EventJSON.append(event, times: times, to: &line)
            line += "}\n".utf8
            out.write(line)
        }
    }

    private func write(_ marker: TimelineMarker, out: BufferedWriter, times: TimeFormatter) {
        switch self.format {
        case .text:
            let label = marker.kind == .gap ? "GAP" : marker.kind == .silence ? "SILENT" : "FINDING"
            out.write(
                "\(times.format(marker.timeNanos))  ---- \(label) \(EventPrinter.printable(marker.agent)): \(marker.detail)\n"
            )
        case .jsonl:
            var line: [UInt8] = Array(
                "{\"type\":\"\(marker.kind.rawValue)\",\"time\":\"\(times.format(marker.timeNanos))\",\"agent\":".utf8
            )
            FieldsJSON.appendString(marker.agent, to: &line)
            line += ",\"detail\":".utf8
            FieldsJSON.appendString(marker.detail, to: &line)
            line += "}\n".utf8
            out.write(line)
        }
    }
}
