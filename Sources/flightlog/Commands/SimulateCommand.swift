import ArgumentParser
import FlightlogEvidence
import FlightlogSimulator
import Foundation
import Glibc

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write made-up call-center workstation logs, optionally with a scripted vishing incident.",
        discussion: """
            Each workstation cc-ws-001, cc-ws-002 … gets a folder under --out with auth.log (sshd, PAM, sudo, cron, \
            logind, as rsyslog writes them), crm.jsonl (the CRM client's JSON access log) and softphone.log (calls). \
            The first workstation is the help desk's. Times are UTC; the same --seed, --start and settings give the \
            same files, byte for byte.

            --incident adds a vishing attack in the first working hours after the first fifth of the span: a call to \
            the help desk, a password and MFA reset for another employee, a login to that employee's workstation \
            from a new address, a connected app authorised, a burst of record views, a bulk export of customer \
            records, the Flightlog agent stopped, and the attacker's lines deleted from auth.log. Its steps, times \
            and hosts are written to incident.json for whoever checks what an investigation finds.

            Without --pace every line is written at once (and auth.log keeps the lines the cover-up would delete). \
            With --pace N the lines are written as the simulated clock, running N times faster than the real one, \
            reaches them, so that agents tailing the folders ship them as they come; the cover-up then really \
            rewrites the victim's auth.log, as `sed -i` would (a new file renamed over the old one).

            Examples:
              flightlog simulate --out sim --hosts 3 --incident --start 2026-12-07T07:00Z --duration 12h
              flightlog simulate --out sim --hosts 3 --incident --start 2026-12-07T09:30Z --duration 1h --pace 60
              flightlog simulate --out fleet --hosts 2000 --rate 3600 --duration 10h --seed 7
            """
    )

    @Option(help: ArgumentHelp("The folder to write into (created if missing). Example: --out sim", valueName: "dir"))
    var out: String

    @Option(help: "How many workstations (1–10000). Example: --hosts 3")
    var hosts: Int = 3

    @Option(help: "The seed of every choice. Example: --seed 7")
    var seed: UInt64 = 1

    @Option(
        help: ArgumentHelp(
            "The first simulated moment (UTC unless the time says otherwise); default: 07:00 UTC today. "
                + "Example: --start 2026-12-07T07:00Z",
            valueName: "time"
        )
    )
    var start: String?

    @Option(help: ArgumentHelp("How long to simulate. Example: --duration 12h", valueName: "duration"))
    var duration: String = "12h"

    @Option(help: "Lines a workstation writes in a working hour (a fiftieth of it outside). Example: --rate 600")
    var rate: Double = 600

    @Option(help: ArgumentHelp("Working hours, UTC. Example: --working-hours 8-18", valueName: "from-to"))
    var workingHours: String = "8-18"

    @Flag(help: "Add the scripted vishing incident (see above).")
    var incident = false

    @Option(
        help: ArgumentHelp(
            "When the incident starts (it lasts about 20 minutes); default: in the first working hours after a fifth "
                + "of the span. Example: --incident-at 2026-12-07T09:35Z",
            valueName: "time"
        )
    )
    var incidentAt: String?

    @Option(help: "Write in real time, the simulated clock running this many times faster. Example: --pace 60")
    var pace: Double?

    func validate() throws {
        guard (1...10_000).contains(self.hosts) else {
            throw ValidationError("--hosts must be between 1 and 10000, not \(self.hosts)")
        }
        guard self.rate > 0, self.rate <= 1_000_000 else {
            throw ValidationError("--rate must be above 0 and at most 1000000 lines an hour, not \(self.rate)")
        }
        if let pace = self.pace, !(pace > 0 && pace <= 1_000_000) {
            throw ValidationError("--pace must be above 0 and at most 1000000, not \(pace)")
        }
        _ = try self.settings()
    }

    func run() async throws {
        let simulation = Simulation(try self.settings())
        let folder = URL(fileURLWithPath: self.out)
        do {
            for host in simulation.hosts {
                try FileManager.default.createDirectory(
                    at: folder.appendingPathComponent(host),
                    withIntermediateDirectories: true
                )
            }
            if !simulation.incident.isEmpty {
                try Data(Self.incidentJSON(simulation).utf8).write(to: folder.appendingPathComponent("incident.json"))
            }
            if let pace = self.pace {
                try await Self.writePaced(simulation, into: folder, pace: pace)
            } else {
                try Self.writeAtOnce(simulation, into: folder)
            }
        } catch let error as CocoaError {
            Output.error("cannot write under \(self.out): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        let start = Timestamp.rfc3339(simulation.settings.startNanos)
        Output.line(
            "simulated \(simulation.hosts.count) workstations from \(start) for \(self.duration) (seed \(self.seed)) "
                + "into \(self.out)"
        )
        for step in simulation.incident {
            Output.line(
                "  \(Timestamp.rfc3339(step.timeNanos))  \(step.host)  \(step.kind.rawValue): \(step.detail)"
            )
        }
    }

    private func settings() throws -> Simulation.Settings {
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let startNanos: Int64
        do {
            if let start = self.start {
                startNanos = try TimeExpression.parseInstant(start, now: now)
            } else {
                let day: Int64 = 86_400_000_000_000
                startNanos = now - now % day + 7 * 3_600_000_000_000
            }
        } catch {
            throw ValidationError("--start: \(error)")
        }
        var incidentStartNanos: Int64?
        if let incidentAt = self.incidentAt {
            do {
                incidentStartNanos = try TimeExpression.parseInstant(incidentAt, now: now)
            } catch {
                throw ValidationError("--incident-at: \(error)")
            }
        }
        let durationNanos: Int64
        do {
            durationNanos = try TimeExpression.parseDuration(self.duration)
        } catch {
            throw ValidationError("--duration: \(error)")
        }
        guard durationNanos > 0, durationNanos <= 366 * 86_400_000_000_000 else {
            throw ValidationError("--duration must be above 0 and at most 366 days")
        }
        let parts = self.workingHours.split(separator: "-").map { Int($0) }
        guard parts.count == 2, let from = parts[0], let to = parts[1], 0 <= from, from < to, to <= 24 else {
            throw ValidationError("--working-hours takes FROM-TO, two hours with 0 ≤ FROM < TO ≤ 24, such as 8-18")
        }
        return Simulation.Settings(
            hosts: self.hosts,
            seed: self.seed,
            startNanos: startNanos,
            durationNanos: durationNanos,
            linesPerHostPerHour: self.rate,
            workingHours: from..<to,
            incident: self.incident || self.incidentAt != nil,
            incidentStartNanos: incidentStartNanos
        )
    }

    /// Host by host, each log through one buffered handle: memory stays at one host's buffers.
    private static func writeAtOnce(_ simulation: Simulation, into folder: URL) throws {
        for (index, host) in simulation.hosts.enumerated() {
            var buffers: [SimulatedLine.Log: [UInt8]] = [:]
            for log in SimulatedLine.Log.allCases { buffers[log] = [] }
            for line in simulation.lines(host: index) {
                buffers[line.log, default: []].append(contentsOf: line.text.utf8)
                buffers[line.log, default: []].append(0x0A)
            }
            for (log, bytes) in buffers {
                try Data(bytes).write(to: folder.appendingPathComponent(host).appendingPathComponent(log.rawValue))
            }
        }
    }

    /// Every line when the simulated clock reaches it; the cover-up rewrites the victim's auth.log when its time comes.
    private static func writePaced(_ simulation: Simulation, into folder: URL, pace: Double) async throws {
        for host in simulation.hosts {
            for log in SimulatedLine.Log.allCases {
                let path = folder.appendingPathComponent(host).appendingPathComponent(log.rawValue).path
                if !FileManager.default.fileExists(atPath: path) {
                    _ = FileManager.default.createFile(atPath: path, contents: nil)
                }
            }
        }
        let began = ContinuousClock.now
        var coverUps = simulation.incident.filter { $0.kind == .coverUp }
        func due(_ nanos: Int64) -> ContinuousClock.Instant {
            began + .nanoseconds(Int64(Double(nanos - simulation.settings.startNanos) / pace))
        }
        for line in simulation.allLines() {
            if let step = coverUps.first, step.timeNanos <= line.timeNanos {
                try await Task.sleep(until: due(step.timeNanos), clock: .continuous)
                try Self.coverUp(simulation, step: step, in: folder)
                coverUps.removeFirst()
            }
            try await Task.sleep(until: due(line.timeNanos), clock: .continuous)
            let url = folder.appendingPathComponent(simulation.hosts[line.host]).appendingPathComponent(
                line.log.rawValue
            )
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((line.text + "\n").utf8))
        }
    }

    /// As `sed -i` does it: the kept lines into a new file, renamed over the old one.
    private static func coverUp(_ simulation: Simulation, step: Simulation.Step, in folder: URL) throws {
        let url = folder.appendingPathComponent(step.host).appendingPathComponent(SimulatedLine.Log.auth.rawValue)
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".auth.log.sed")
        try Data(simulation.coverUp(text).utf8).write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }

    private static func incidentJSON(_ simulation: Simulation) -> String {
        let steps = simulation.incident.map { step in
            "  {\"kind\":\"\(step.kind.rawValue)\",\"time\":\"\(Timestamp.rfc3339(step.timeNanos))\","
                + "\"time_ns\":\(step.timeNanos),\"host\":\"\(step.host)\",\"detail\":\"\(step.detail)\"}"
        }
        let head =
            "{\"attacker_address\":\"\(simulation.attackerAddress)\",\"attacker_phone\":\"\(simulation.attackerPhone)\","
            + "\"victim_user\":\"\(simulation.victimUser)\",\"victim_host\":\"\(simulation.victimHost)\","
        return head + "\"steps\":[\n" + steps.joined(separator: ",\n") + "\n]}\n"
    }
}
