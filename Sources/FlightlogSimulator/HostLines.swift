/// One simulated line: which host's which log, when, and its text (without the line end).
public struct SimulatedLine: Sendable, Equatable {
    public enum Log: String, Sendable, CaseIterable {
        case auth = "auth.log"
        case crm = "crm.jsonl"
        case softphone = "softphone.log"
    }

    public var host: Int
    public var log: Log
    public var timeNanos: Int64
    public var text: String
}

/// The lines of one host in time order: the day's routine (logins, calls, CRM work, cron, the odd admin), with the
/// incident's lines for this host merged in. Each host draws from its own ``SeededRandom`` stream, so a host's lines
/// do not depend on how many other hosts there are.
public struct HostLines: Sequence, IteratorProtocol, Sendable {
    private let simulation: Simulation
    private let host: Int
    private let user: String
    private let address: String
    private var random: SeededRandom
    /// Simulated time of the next routine activity, in seconds since the start (a Double: gaps are fractions).
    private var clock: Double = 0
    /// Lines already decided, in time order (a call's end, the incident's lines), waiting for their time.
    private var scheduled: [SimulatedLine] = []
    private var pid: Int
    private var session: Int

    init(simulation: Simulation, host: Int) {
        self.simulation = simulation
        self.host = host
        self.user = simulation.users[host]
        self.address = "10.20.\(host / 250).\(10 + host % 250)"
        self.random = SeededRandom(seed: simulation.settings.seed &* 0x100_0000_01B3 &+ UInt64(host))
        self.pid = 1200 + self.random.below(2000)
        self.session = 1 + self.random.below(40)
        self.scheduled = Incident.lines(of: simulation, host: host)
    }

    public mutating func next() -> SimulatedLine? {
        let settings = self.simulation.settings
        let end = settings.startNanos + settings.durationNanos
        while true {
            // Whole milliseconds: what the logs' timestamps can say.
            let routine = settings.startNanos + Int64(self.clock * 1e3) * 1_000_000
            if let first = self.scheduled.first, first.timeNanos <= routine || routine >= end {
                self.scheduled.removeFirst()
                return first.timeNanos < end ? first : nil
            }
            guard routine < end else { return nil }
            let working = settings.workingHours.contains(SimulatedTime.hour(routine))
            // An activity writes 1.52 lines on average (a call two, a CRM view sometimes an update…).
            let perSecond = settings.linesPerHostPerHour / 1.52 / 3600 * (working ? 1 : 0.02)
            self.clock += self.random.gap(perSecond: Swift.max(perSecond, 1e-9))
            if let line = self.activity(at: routine, working: working) { return line }
        }
    }

    /// One routine activity at `time`: its first line, with any later lines it implies scheduled.
    private mutating func activity(at time: Int64, working: Bool) -> SimulatedLine? {
        guard working else {
            let pid = self.nextPID()
            return self.auth(
                time,
                "CRON[\(pid)]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"
            )
        }
        let roll = self.random.below(100)
        switch roll {
        case 0..<30: return self.call(time)
        case 30..<70: return self.crmWork(time)
        case 70..<80:
            let query = self.random.pick(["smith", "order 4471", "refund", "address change", "+44 20 7946", "garcia"])
            let results = self.random.below(40)
            return self.crm(
                time,
                CRMLine.json(
                    time,
                    "search",
                    user: self.user,
                    address: self.address,
                    [
                        ("query", CRMLine.string(query)), ("results", "\(results)"),
                    ]
                )
            )
        case 80..<88:
            let pid = self.nextPID()
            self.schedule(
                time + 1_000_000_000,
                .auth,
                self.authText(
                    time + 1_000_000_000,
                    "CRON[\(pid)]: pam_unix(cron:session): session closed for user root"
                )
            )
            return self.auth(
                time,
                "CRON[\(pid)]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"
            )
        case 88..<93:
            // The screen locked and unlocked: a password at the greeter, now and then mistyped first.
            let uid = 1000 + self.host
            if self.random.below(5) == 0 {
                return self.auth(
                    time,
                    "gdm-password][\(self.nextPID())]: pam_unix(gdm-password:auth): authentication failure; logname= "
                        + "uid=0 euid=0 tty=/dev/tty1 ruser= rhost=  user=\(self.user)"
                )
            }
            self.session += 1
            self.schedule(
                time + 200_000_000,
                .auth,
                self.authText(
                    time + 200_000_000,
                    "systemd-logind[612]: New session \(self.session) of user \(self.user)."
                )
            )
            return self.auth(
                time,
                "gdm-password][\(self.nextPID())]: pam_unix(gdm-password:session): session opened for user "
                    + "\(self.user)(uid=\(uid)) by (uid=0)"
            )
        case 93..<97:
            // IT support logs in to look at the machine.
            let pid = self.nextPID()
            let port = 40_000 + self.random.below(20_000)
            return self.auth(
                time,
                "sshd[\(pid)]: Accepted publickey for itsupport from 10.20.250.5 port \(port) ssh2: ED25519 "
                    + "SHA256:r0K4c1wH0tKpJ0m9YVqk2yWl9u0dJ9ZQ3b1m6Xw0aQ8"
            )
        default:
            let command = self.random.pick([
                "/usr/bin/apt-get update", "/usr/bin/systemctl restart softphone", "/usr/bin/journalctl -u softphone",
            ])
            return self.auth(
                time,
                "sudo: \(self.user) : TTY=pts/0 ; PWD=/home/\(self.user) ; USER=root ; COMMAND=\(command)"
            )
        }
    }

    /// A call: its start now, its end scheduled; the agent notes the customer in the CRM meanwhile.
    private mutating func call(_ time: Int64) -> SimulatedLine {
        let id = String(self.random.next() >> 16, radix: 16)
        let direction = self.random.below(5) == 0 ? "outbound" : "inbound"
        let caller = "+44 20 7946 0\(100 + self.random.below(900))"
        let queue = self.random.pick(["billing", "orders", "retention", "support"])
        let seconds = 40 + self.random.below(600)
        let endTime = time + Int64(seconds) * 1_000_000_000
        self.schedule(
            endTime,
            .softphone,
            "\(SimulatedTime.softphone(endTime)) INFO call.end call_id=\(id) agent=\(self.user) duration_s=\(seconds)"
        )
        return SimulatedLine(
            host: self.host,
            log: .softphone,
            timeNanos: time,
            text: "\(SimulatedTime.softphone(time)) INFO call.start call_id=\(id) direction=\(direction) "
                + "number=\"\(caller)\" queue=\(queue) agent=\(self.user)"
        )
    }

    /// A customer record opened, and sometimes updated.
    private mutating func crmWork(_ time: Int64) -> SimulatedLine {
        let record = "C-\(100_000 + self.random.below(900_000))"
        if self.random.below(4) == 0 {
            let field = self.random.pick(["address", "phone", "email", "plan"])
            let later = time + Int64(20 + self.random.below(100)) * 1_000_000_000
            self.schedule(
                later,
                .crm,
                CRMLine.json(
                    later,
                    "record.update",
                    user: self.user,
                    address: self.address,
                    [
                        ("object", CRMLine.string("Customer")), ("record_id", CRMLine.string(record)),
                        ("field", CRMLine.string(field)),
                    ]
                )
            )
        }
        return self.crm(
            time,
            CRMLine.json(
                time,
                "record.view",
                user: self.user,
                address: self.address,
                [
                    ("object", CRMLine.string("Customer")), ("record_id", CRMLine.string(record)),
                ]
            )
        )
    }

    private mutating func nextPID() -> Int {
        self.pid += 1 + self.random.below(40)
        if self.pid > 4_000_000 { self.pid = 1200 }
        return self.pid
    }

    private func authText(_ time: Int64, _ message: String) -> String {
        "\(SimulatedTime.syslog(time)) \(self.simulation.hosts[self.host]) \(message)"
    }

    private func auth(_ time: Int64, _ message: String) -> SimulatedLine {
        SimulatedLine(host: self.host, log: .auth, timeNanos: time, text: self.authText(time, message))
    }

    private func crm(_ time: Int64, _ text: String) -> SimulatedLine {
        SimulatedLine(host: self.host, log: .crm, timeNanos: time, text: text)
    }

    /// Inserts a line among the scheduled ones, after those of the same time.
    private mutating func schedule(_ time: Int64, _ log: SimulatedLine.Log, _ text: String) {
        let line = SimulatedLine(host: self.host, log: log, timeNanos: time, text: text)
        let index = self.scheduled.firstIndex { $0.timeNanos > time } ?? self.scheduled.endIndex
        self.scheduled.insert(line, at: index)
    }
}

/// Several hosts' lines merged in time order (the lowest host first among equal times).
public struct MergedLines: Sequence, IteratorProtocol, Sendable {
    private var sources: [HostLines]
    private var heads: [SimulatedLine?]

    init(_ sources: [HostLines]) {
        self.sources = sources
        self.heads = []
        for index in self.sources.indices { self.heads.append(self.sources[index].next()) }
    }

    public mutating func next() -> SimulatedLine? {
        var best: Int?
        for (index, head) in self.heads.enumerated() {
            guard let head else { continue }
            if let current = best, let other = self.heads[current], other.timeNanos <= head.timeNanos { continue }
            best = index
        }
        guard let index = best else { return nil }
        let line = self.heads[index]
        self.heads[index] = self.sources[index].next()
        return line
    }
}
