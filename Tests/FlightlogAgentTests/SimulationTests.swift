import FlightlogAgent
import FlightlogSimulator
import FlightlogWire
import Foundation
import Testing

/// `flightlog simulate`'s generator (issue 27): the same settings give the same lines, the incident's steps are in the
/// lines where the script says, and the agent's parser reads every simulated line with its own time, user and address.
@Suite struct SimulationTests {
    /// 2026-12-07T07:00:00Z.
    static let start: Int64 = 1_796_626_800 * 1_000_000_000
    static let hour: Int64 = 3_600_000_000_000

    static func settings(hosts: Int = 3, seed: UInt64 = 1, incident: Bool = true) -> Simulation.Settings {
        Simulation.Settings(
            hosts: hosts,
            seed: seed,
            startNanos: Self.start,
            durationNanos: 6 * Self.hour,
            incident: incident
        )
    }

    static func texts(_ simulation: Simulation) -> [String] {
        simulation.allLines().map { "\($0.host) \($0.log.rawValue) \($0.text)" }
    }

    @Test func theSameSeedGivesTheSameLinesAndAnotherSeedOthers() {
        let first = Self.texts(Simulation(Self.settings()))
        #expect(first.count > 8_000)
        #expect(first == Self.texts(Simulation(Self.settings())))
        #expect(first != Self.texts(Simulation(Self.settings(seed: 2))))
    }

    @Test func aHostsLinesDoNotDependOnHowManyHostsThereAre() {
        let three = Array(Simulation(Self.settings(hosts: 3, incident: false)).lines(host: 2))
        let fifty = Array(Simulation(Self.settings(hosts: 50, incident: false)).lines(host: 2))
        #expect(!three.isEmpty && three == fifty)
    }

    @Test func linesAreInTimeOrderWithinTheSpanAndMostlyInWorkingHours() {
        let simulation = Simulation(Self.settings())
        var previous = Int64.min
        var working = 0
        var all = 0
        for line in simulation.allLines() {
            #expect(line.timeNanos >= previous)
            #expect(line.timeNanos >= Self.start && line.timeNanos < Self.start + 6 * Self.hour)
            previous = line.timeNanos
            all += 1
            // 07:00–08:00 is outside the default working hours (8–18).
            if line.timeNanos >= Self.start + Self.hour { working += 1 }
        }
        #expect(Double(working) / Double(all) > 0.98)
        // About `linesPerHostPerHour` (600) lines per host and working hour: 3 hosts × 5 hours.
        #expect((7_200...10_800).contains(working), "\(working)")
    }

    @Test func theIncidentsStepsAreWhereTheScriptSays() throws {
        let simulation = Simulation(Self.settings())
        let kinds = simulation.incident.map(\.kind)
        #expect(
            kinds == [
                .helpDeskCall, .passwordReset, .mfaReset, .loginFromNewAddress, .connectedAppAuthorised,
                .recordViewBurst, .bulkExport, .agentStopped, .coverUp,
            ]
        )
        #expect(simulation.incident.map(\.timeNanos) == simulation.incident.map(\.timeNanos).sorted())
        let victim = try #require(simulation.incident.first { $0.kind == .loginFromNewAddress }).host
        #expect(victim != simulation.hosts[0])
        let lines = Array(simulation.allLines())
        let attacker = lines.filter { $0.text.contains(simulation.attackerAddress) }
        // Only the victim's host sees the attacker's address: the login (2 lines? one names it), the CRM login,
        // consent, burst and export, and the cover-up's sed command.
        #expect(attacker.allSatisfy { simulation.hosts[$0.host] == victim })
        #expect(attacker.count == 1 + 2 + Simulation.burstLength + 1 + 1, "\(attacker.map(\.text))")
        let helpDesk = lines.filter { $0.host == 0 && $0.text.contains(simulation.attackerPhone) }
        #expect(helpDesk.count == 3, "the call's start and the two resets: \(helpDesk.map(\.text))")

        // The cover-up keeps every other line of auth.log, in order.
        let index = try #require(simulation.hosts.firstIndex(of: victim))
        let auth = simulation.lines(host: index).filter { $0.log == .auth }.map(\.text)
        let text = auth.joined(separator: "\n") + "\n"
        let kept = simulation.coverUp(text).split(separator: "\n").map(String.init)
        #expect(kept == auth.filter { !$0.contains(simulation.attackerAddress) })
        #expect(kept.count == auth.count - 2)
    }

    /// What the agent makes of every simulated line: its time from the line itself, and the user and address of the
    /// attacker's steps, so that `query --user` and `--ip` find them.
    @Test func theAgentReadsEveryLineWithItsOwnTimeUserAndAddress() throws {
        let simulation = Simulation(Self.settings())
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        var checked = 0
        for line in simulation.allLines() {
            let parsed = parser.parse(Array(line.text.utf8), observedNanos: line.timeNanos + 1_000_000_000)
            // Syslog's time has whole seconds; the others keep milliseconds.
            let expected = line.log == .auth ? line.timeNanos / 1_000_000_000 * 1_000_000_000 : line.timeNanos
            #expect(parsed.timeNanos == expected, "\(line.log) \(line.text)")
            let fields = Dictionary(parsed.fields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            if line.text.contains(simulation.attackerAddress), !line.text.contains("COMMAND=") {
                #expect(fields.values.contains(simulation.attackerAddress), "\(line.text) → \(fields)")
            }
            checked += 1
            if checked == 3_000 { break }
        }
        // The incident's lines, whenever they fall.
        for line in simulation.allLines() where line.text.contains(simulation.attackerAddress) {
            let parsed = parser.parse(Array(line.text.utf8), observedNanos: line.timeNanos + 1_000_000_000)
            let fields = Dictionary(parsed.fields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            #expect(fields["user"] != nil || fields["sudo.user"] != nil, "\(line.text) → \(fields)")
        }
    }
}
