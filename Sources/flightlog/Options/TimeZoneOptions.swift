import ArgumentParser
import FlightlogEvidence

/// `--tz`, shared by the commands that print event times (query, timeline, stats, hunt).
struct TimeZoneOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Print times in this IANA time zone instead of UTC (stats also counts --work-hours in it). "
                + "Example: --tz Europe/Paris",
            valueName: "zone"
        )
    )
    var tz: String?

    /// The formatter for `--tz`; an unknown zone is explained and the command exits 2.
    func formatter() throws(ExitCode) -> TimeFormatter { try Investigation.zone(self.tz) }
}
