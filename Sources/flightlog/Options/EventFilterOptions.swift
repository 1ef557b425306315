import ArgumentParser
import FlightlogEvidence
import FlightlogStore

/// The filters shared by query, timeline, stats, hunt and export.
struct EventFilterOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Only events at or after this time: RFC 3339, a date, an age (15m, 2h, 3d) or HH:MM today UTC. "
                + "Example: --since 2026-11-24T09:00Z",
            valueName: "time"
        )
    )
    var since: String?

    @Option(
        help: ArgumentHelp(
            "Only events before this time (same forms as --since). Example: --until 12:00",
            valueName: "time"
        )
    )
    var until: String?

    @Option(
        help: "Only events from this host: the name the shipping agent gives its workstation. Example: --host cc-ws-602"
    )
    var host: String?

    @Option(
        name: .customLong("log-host"),
        help: ArgumentHelp(
            "Only events whose line names this host itself (the syslog header's host, field hostname): a relay or "
                + "a forwarded log may name another host than the agent's. Example: --log-host relay-01",
            valueName: "name"
        )
    )
    var logHost: String?

    @Option(help: "Only events shipped by this agent (its enrolled name). Example: --agent cc-ws-602")
    var agent: String?

    @Option(help: "Only events whose parsed user is this. Example: --user mchen")
    var user: String?

    @Option(help: "Only events whose parsed program is this. Example: --program sshd")
    var program: String?

    @Option(help: "Only events read from this source (file path or channel). Example: --source /var/log/auth.log")
    var source: String?

    @Option(
        help: ArgumentHelp(
            "Only events whose parsed source IP is this. Example: --ip 203.0.113.77",
            valueName: "address"
        )
    )
    var ip: String?

    @Option(
        help: ArgumentHelp(
            "Full-text search of the raw line, FTS5 syntax (AND, OR, NOT, \"phrases\", prefix*). "
                + "Example: --match '\"data loader\" AND consent'",
            valueName: "expression"
        )
    )
    var match: String?

    @Option(
        name: .customLong("where"),
        help: ArgumentHelp(
            "A condition on a parsed field (ECS name or short name): field=value, field!=value or field~regex; "
                + "repeatable, all must hold. Example: --where event.action=login --where 'source.ip~^203\\.'",
            valueName: "condition"
        )
    )
    var conditions: [String] = []

    @Option(
        help: ArgumentHelp(
            "Only events within --window of this event's time. Example: --around 4711",
            valueName: "event-id"
        )
    )
    var around: Int64?

    @Option(help: ArgumentHelp("The half-width of --around. Example: --window 10m", valueName: "duration"))
    var window: String = "10m"

    @Option(
        help:
            "Which time filters and orders: event (the event's own time) or received (the aggregator's). Example: --clock received"
    )
    var clock: ClockArgument = .event

    /// The filter these options describe, relative times measured from `now`.
    /// Throws ``EvidenceError`` for a time or duration, ``StoreError`` for a condition.
    func query(now: Int64) throws -> EventQuery {
        var query = EventQuery()
        query.sinceNanos = try self.since.map { try TimeExpression.parseInstant($0, now: now) }
        query.untilNanos = try self.until.map { try TimeExpression.parseInstant($0, now: now) }
        query.host = self.host
        query.agent = self.agent
        query.user = self.user
        query.program = self.program
        query.source = self.source
        query.ip = self.ip
        query.match = self.match
        if let logHost = self.logHost {
            query.conditions.append(FieldCondition(field: "hostname", op: .equals, value: logHost))
        }
        for text in self.conditions {
            query.conditions.append(try FieldCondition(parsing: text))
        }
        query.aroundEventID = self.around
        query.aroundWindowNanos = try TimeExpression.parseDuration(self.window)
        query.clock = self.clock.clock
        return query
    }
}

enum ClockArgument: String, ExpressibleByArgument, CaseIterable {
    case event
    case received

    var clock: EventQuery.Clock { self == .event ? .event : .received }
}

enum OrderArgument: String, ExpressibleByArgument, CaseIterable {
    case asc
    case desc

    var order: EventQuery.Order { self == .asc ? .asc : .desc }
}

extension EventFilterOptions {
    /// The filters as a query; a filter that does not parse is explained and the command exits 2.
    func queryOrExit() throws -> EventQuery {
        do {
            return try self.query(now: nowNanos())
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }
}
