import ArgumentParser
import FlightlogEvidence
import FlightlogPostgres
import FlightlogStore

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Search stored events by time, host, agent, user, program, source, IP, full text and parsed fields.",
        discussion: """
            Streams matching events oldest first (or --order desc). Exit status like grep: 0 when something \
            matched, 1 when nothing did, 2 on an error. Every run is recorded in the database's audit trail \
            (who, when, arguments, result count); that record is the only write this command makes.

            Times print in UTC (RFC 3339, nanoseconds) unless --tz names a zone. JSONL objects carry id, time, \
            received, observed, host, agent, source, process.name, process.pid, user.name, source.ip, \
            log.syslog.severity.name, message (the raw line; when it is not UTF-8 also message_b64 with the exact \
            bytes), fields (keys under their Elastic Common Schema names, docs/SCHEMA.md) and batch {agent, epoch, \
            seq, index}. Field names in --where may be the ECS name or the short one (user.name or user). CSV cells that a spreadsheet would run as a formula get a leading ' unless --csv-raw.

            Examples:
              flightlog query --db flightlog.db --user mchen --since 2026-11-24T09:00Z --format table
              flightlog query --db flightlog.db --ip 203.0.113.77 --format jsonl | jq .
              flightlog query --db flightlog.db --match '"data loader"' --where event.action=consent
              flightlog query --db flightlog.db --where 'source.ip~^203\\.0\\.113\\.' --since 3d --count
              flightlog query --db flightlog.db --around 4711 --window 5m --tz Europe/Paris
              flightlog query --db flightlog.db --host cc-ws-602 --since 11:00 --until 12:00 --explain
              flightlog query --db flightlog.db --since 2026-11-24 --format timesketch > case.jsonl
              flightlog query --store postgres://flightlog@db1/flightlog --user mchen --since 1d
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var filters: EventFilterOptions

    @Option(help: "At most this many events. Example: --limit 100")
    var limit: Int?

    @Option(help: "Order on the chosen clock: asc (oldest first) or desc. Example: --order desc")
    var order: OrderArgument = .asc

    @Flag(help: "Print only the number of matching events.")
    var count = false

    @Option(help: "Output format: table, jsonl, csv or timesketch. Example: --format jsonl")
    var format: EventFormat = .table

    @OptionGroup var timeZone: TimeZoneOptions

    @Flag(help: "Write CSV cells exactly, without the guard against spreadsheet formulas.")
    var csvRaw = false

    @Flag(help: "Print the SQL, its parameters and SQLite's query plan instead of running it.")
    var explain = false

    func validate() throws {
        if let limit = self.limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
        if self.explain && self.store.store != nil {
            throw ValidationError("--explain shows SQLite's plan: it does not apply to --store")
        }
    }

    func run() async throws {
        try await Investigation.run { try self.investigate() }
    }

    private func investigate() throws {
        var query = try self.filters.queryOrExit()
        query.limit = self.limit
        query.order = self.order.order
        let times = try self.timeZone.formatter()
        let investigated = try Investigation.open(self.database, self.store)
        defer { investigated.close() }
        let store = investigated.reader
        if query.match != nil, let progress = try? investigated.sqlite?.fullTextProgressNow(), progress.lag > 0 {
            // The index trails the commit (a running aggregator catches up): say what --match cannot see yet.
            Output.error(
                "note: the full-text index trails the stored events by \(progress.lag); --match does not see them yet"
            )
        }
        Terminal.ignoreBrokenPipe()
        let out = BufferedWriter.standardOutput()
        if self.explain {
            do {
                let explanation = try store.explain(query, count: self.count)
                out.write(explanation.sql + "\n-- arguments: " + explanation.arguments.joined(separator: ", ") + "\n")
                for step in explanation.plan { out.write("-- plan: " + step + "\n") }
                out.flush()
                return
            } catch {
                try investigated.fail("query", error)
            }
        }
        let matched: Int
        do {
            if self.count {
                matched = try store.countEvents(query)
                out.write(String(matched) + "\n")
            } else {
                let printer = self.printer(times: times, clock: query.clock, out: out)
                printer.header()
                if let style = self.format.jsonStyle(clock: query.clock) {
                    matched = try store.forEachEventJSON(query, style: style, times: times) {
                        (object: inout [UInt8]) -> Bool in
                        object.append(UInt8(ascii: "\n"))
                        out.write(object)
                        return !out.isBroken
                    }
                } else {
                    matched = try store.forEachEvent(query) { event in
                        printer.print(event)
                        return !out.isBroken
                    }
                }
            }
            out.flush()
            _ = try out.finish()
        } catch {
            try investigated.fail("query", error)
        }
        try investigated.audit("query", count: matched, outcome: matched > 0 ? "ok" : "no match")
        if matched == 0 { throw ExitCode(1) }
    }
}

extension QueryCommand {
    /// The printer of the chosen format, on `out`.
    private func printer(times: TimeFormatter, clock: EventQuery.Clock, out: BufferedWriter) -> EventPrinter {
        EventPrinter(
            format: self.format,
            times: times,
            clock: clock,
            out: out,
            width: self.format == .table ? Terminal.width() : nil,
            csvRaw: self.csvRaw
        )
    }
}
