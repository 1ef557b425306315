/// The logs a call center's workstations write, made up: for the demo, the tests and the benchmarks (issue 27).
///
/// Each workstation (`cc-ws-001` …) has one employee and three logs: `auth.log` (sshd, PAM, sudo, cron, logind, as
/// rsyslog writes them), `crm.jsonl` (the CRM client's JSON access log) and `softphone.log` (calls). During working
/// hours each host writes about `linesPerHostPerHour` lines; outside them a fiftieth of that (cron, the odd admin).
/// With `incident`, a scripted vishing attack runs through the first working hours after the start: a call to the help
/// desk (`cc-ws-001`), a password and MFA reset for another employee, a login to that employee's workstation from a
/// new address, a connected app authorised, a burst of record views and a bulk export, the agent stopped, and a
/// cover-up of `auth.log` (``Simulation/incident`` lists each step, its time and host).
///
/// The same settings give the same lines, byte for byte: every choice comes from ``SeededRandom``, each host from its
/// own stream, and times are formatted without the locale.
public struct Simulation: Sendable {
    public struct Settings: Sendable {
        public var hosts: Int
        public var seed: UInt64
        /// The first moment simulated, in nanoseconds since the Unix epoch (UTC).
        public var startNanos: Int64
        public var durationNanos: Int64
        /// Lines a host writes in an hour of working time.
        public var linesPerHostPerHour: Double
        /// Working hours, UTC: from the first hour to the hour before the second.
        public var workingHours: Range<Int>
        public var incident: Bool
        /// When the incident starts; by default the first working moment after a fifth of the span.
        public var incidentStartNanos: Int64?

        public init(
            hosts: Int = 3,
            seed: UInt64 = 1,
            startNanos: Int64,
            durationNanos: Int64,
            linesPerHostPerHour: Double = 600,
            workingHours: Range<Int> = 8..<18,
            incident: Bool = false,
            incidentStartNanos: Int64? = nil
        ) {
            self.hosts = hosts
            self.seed = seed
            self.startNanos = startNanos
            self.durationNanos = durationNanos
            self.linesPerHostPerHour = linesPerHostPerHour
            self.workingHours = workingHours
            self.incident = incident
            self.incidentStartNanos = incidentStartNanos
        }
    }

    /// One scripted step of the incident: what happens, where and when, so that a demo or a test knows what an
    /// investigator should find.
    public struct Step: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case helpDeskCall = "help_desk_call"
            case passwordReset = "password_reset"
            case mfaReset = "mfa_reset"
            case loginFromNewAddress = "login_from_new_address"
            case connectedAppAuthorised = "connected_app_authorised"
            case recordViewBurst = "record_view_burst"
            case bulkExport = "bulk_export"
            /// The attacker stops the Flightlog agent: the demo stops it at this time.
            case agentStopped = "agent_stopped"
            /// The attacker deletes their lines from `auth.log` (``Simulation/coverUp(_:)``).
            case coverUp = "cover_up"
        }

        public var kind: Kind
        public var timeNanos: Int64
        public var host: String
        public var detail: String
    }

    public let settings: Settings
    /// The workstations' names, `cc-ws-001` …; the first is the help desk's.
    public let hosts: [String]
    /// Each workstation's employee, by host index.
    public let users: [String]
    /// The incident's steps in time order; empty without `incident`.
    public private(set) var incident: [Step]
    /// The address the attacker logs in from (TEST-NET-3) and the number they call from (a 555-01xx fiction number).
    public let attackerAddress: String
    public let attackerPhone: String
    /// The victim's host index, and when the incident starts.
    let victim: Int
    let incidentStart: Int64

    static let names = [
        "mchen", "aokafor", "jrivera", "lnguyen", "psharma", "tbrown", "kmuller", "sgarcia", "ewilson", "rkhan",
        "dmartin", "ycohen", "fsilva", "bjohnson", "hkim", "olarsen", "mrossi", "cdubois", "vpetrov", "nali",
    ]

    public init(_ settings: Settings) {
        self.settings = settings
        let count = max(settings.hosts, 1)
        self.hosts = (1...count).map { index in
            let digits = String(index)
            return "cc-ws-" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
        }
        self.users = (0..<count).map { index in
            let base = Self.names[index % Self.names.count]
            return index < Self.names.count ? base : "\(base)\(index / Self.names.count + 1)"
        }
        var random = SeededRandom(seed: settings.seed ^ 0x1AC1_DE47)
        self.attackerAddress = "203.0.113.\(1 + random.below(254))"
        self.attackerPhone = "+1 202 555 01\(10 + random.below(90))"
        self.victim = count > 1 ? 1 + random.below(count - 1) : 0
        let firstWorking = Self.firstWorkingMoment(settings, after: settings.durationNanos / 5, random: &random)
        self.incidentStart = settings.incidentStartNanos ?? firstWorking
        self.incident = []
        if settings.incident { self.incident = Incident.script(self) }
    }

    /// The employee whose account the incident takes over, and their workstation.
    public var victimUser: String { self.users[self.victim] }
    public var victimHost: String { self.hosts[self.victim] }

    /// Record views in the incident's burst before the export.
    public static var burstLength: Int { Incident.burst }

    /// The lines of host `index`, in time order.
    public func lines(host index: Int) -> HostLines {
        HostLines(simulation: self, host: index)
    }

    /// The lines of every host, merged in time order (host order among equal times).
    public func allLines() -> MergedLines {
        MergedLines(self.hosts.indices.map { self.lines(host: $0) })
    }

    /// `text` (the victim's `auth.log`) without the lines that name the attacker's address: what the cover-up step
    /// leaves.
    public func coverUp(_ text: String) -> String {
        var kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter {
            !$0.contains(self.attackerAddress)
        }
        if kept.last == "" { kept.removeLast() }
        return kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n"
    }

    /// The first moment at least `offset` after the start that falls in working hours (whole minutes, chosen by the
    /// seed within the hour); the start plus `offset` when the simulated span has no working hour left.
    private static func firstWorkingMoment(
        _ settings: Settings,
        after offset: Int64,
        random: inout SeededRandom
    ) -> Int64 {
        let hour: Int64 = 3_600_000_000_000
        var candidate = settings.startNanos + offset
        let end = settings.startNanos + settings.durationNanos
        while candidate < end {
            if settings.workingHours.contains(SimulatedTime.hour(candidate)) {
                return candidate + Int64(random.below(20)) * 60_000_000_000
            }
            candidate += hour - candidate % hour
        }
        return settings.startNanos + offset
    }
}
