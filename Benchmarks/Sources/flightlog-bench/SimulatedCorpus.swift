import FlightlogSimulator

/// The simulated call center (`FLIGHTLOG_BENCH_CORPUS=simulated`): what `flightlog simulate` writes for 50
/// workstations (auth.log's sshd, PAM, sudo, cron and logind lines, the CRM client's JSON access log, the softphone's
/// application log), merged in time order, with the scripted incident once per simulated day. When a day runs out the
/// next one starts with the next seed, so any number of lines can be asked for and the same count gives the same bytes.
struct SimulatedCorpus {
    private var day: UInt64 = 0
    private var lines: MergedLines

    init() {
        self.lines = Self.simulation(day: 0).allLines()
    }

    /// One working day of 50 hosts at 3,600 lines an hour each: about 1.8 M lines.
    private static func simulation(day: UInt64) -> Simulation {
        let dayNanos: Int64 = 86_400 * 1_000_000_000
        return Simulation(
            Simulation.Settings(
                hosts: 50,
                seed: 7 + day,
                startNanos: 1_796_630_400_000_000_000 + Int64(day) * dayNanos,
                durationNanos: dayNanos,
                linesPerHostPerHour: 3600,
                incident: true
            )
        )
    }

    mutating func lineBytes() -> [UInt8] {
        while true {
            if let line = self.lines.next() { return Array(line.text.utf8) }
            self.day += 1
            self.lines = Self.simulation(day: self.day).allLines()
        }
    }
}
