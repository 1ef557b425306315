/// The CRM client's JSON lines: `ts`, `event`, `user`, `src_ip`, then the event's own fields, in that order.
enum CRMLine {
    /// `fields`' values are JSON already (``string(_:)`` for a string).
    static func json(
        _ time: Int64,
        _ event: String,
        user: String,
        address: String,
        _ fields: [(String, String)] = []
    ) -> String {
        let head = [
            ("ts", Self.string(SimulatedTime.iso(time))), ("event", Self.string(event)), ("user", Self.string(user)),
            ("src_ip", Self.string(address)),
        ]
        return "{" + (head + fields).map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// A JSON string of `text` (which holds no character that needs escaping but `"` and `\`).
    static func string(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        self.split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// The scripted vishing incident (``Simulation``): its steps, and each host's lines of it.
enum Incident {
    /// Minutes after the incident's start, for each step.
    private static let minutes: [(Simulation.Step.Kind, Int64)] = [
        (.helpDeskCall, 0), (.passwordReset, 3), (.mfaReset, 4), (.loginFromNewAddress, 9),
        (.connectedAppAuthorised, 11), (.recordViewBurst, 13), (.bulkExport, 15), (.agentStopped, 17), (.coverUp, 18),
    ]

    /// Records viewed in the burst before the export, one every two seconds.
    static let burst = 60
    /// Rows of the bulk export.
    static let exportedRows = 48_211

    static func script(_ simulation: Simulation) -> [Simulation.Step] {
        let helpDesk = simulation.hosts[0]
        let victimHost = simulation.hosts[simulation.victim]
        let victim = simulation.users[simulation.victim]
        let ip = simulation.attackerAddress
        return Self.minutes.map { kind, minute in
            let time = simulation.incidentStart + minute * 60_000_000_000
            let (host, detail): (String, String) =
                switch kind {
                case .helpDeskCall: (helpDesk, "a caller from \(simulation.attackerPhone) claims to be \(victim)")
                case .passwordReset: (helpDesk, "the help desk resets \(victim)'s password")
                case .mfaReset: (helpDesk, "the help desk resets \(victim)'s MFA")
                case .loginFromNewAddress: (victimHost, "\(victim) logs in from \(ip), never seen before")
                case .connectedAppAuthorised: (victimHost, "\(victim) authorises the connected app Data Loader")
                case .recordViewBurst: (victimHost, "\(Self.burst) customer records viewed in two minutes from \(ip)")
                case .bulkExport: (victimHost, "\(Self.exportedRows) customer records exported from \(ip)")
                case .agentStopped: (victimHost, "the Flightlog agent is stopped with sudo")
                case .coverUp: (victimHost, "the lines naming \(ip) are deleted from auth.log")
                }
            return Simulation.Step(kind: kind, timeNanos: time, host: host, detail: detail)
        }
    }

    /// The incident's lines written on host `index`, in time order.
    static func lines(of simulation: Simulation, host index: Int) -> [SimulatedLine] {
        guard simulation.settings.incident else { return [] }
        let helpDesk = simulation.users[0]
        let victim = simulation.users[simulation.victim]
        let ip = simulation.attackerAddress
        let hostName = simulation.hosts[index]
        var lines: [SimulatedLine] = []
        func add(_ time: Int64, _ log: SimulatedLine.Log, _ text: String) {
            lines.append(SimulatedLine(host: index, log: log, timeNanos: time, text: text))
        }
        func auth(_ time: Int64, _ message: String) {
            add(time, .auth, "\(SimulatedTime.syslog(time)) \(hostName) \(message)")
        }
        let second: Int64 = 1_000_000_000
        for step in simulation.incident where step.host == hostName {
            let t = step.timeNanos
            switch step.kind {
            case .helpDeskCall:
                add(
                    t,
                    .softphone,
                    "\(SimulatedTime.softphone(t)) INFO call.start call_id=9d1e0c4a direction=inbound "
                        + "number=\"\(simulation.attackerPhone)\" queue=helpdesk agent=\(helpDesk)"
                )
                let end = t + 312 * second
                add(
                    end,
                    .softphone,
                    "\(SimulatedTime.softphone(end)) INFO call.end call_id=9d1e0c4a agent=\(helpDesk) duration_s=312"
                )
            case .passwordReset, .mfaReset:
                // `user` is the account reset, `actor` the help-desk employee, as the starter rules read it.
                let event = step.kind == .passwordReset ? "helpdesk.password_reset" : "helpdesk.mfa_reset"
                add(
                    t,
                    .crm,
                    CRMLine.json(
                        t,
                        event,
                        user: victim,
                        address: "10.20.0.10",
                        [
                            ("actor", CRMLine.string(helpDesk)), ("channel", CRMLine.string("phone")),
                            ("caller", CRMLine.string(simulation.attackerPhone)),
                        ]
                    )
                )
            case .loginFromNewAddress:
                auth(t, "sshd[31337]: Accepted password for \(victim) from \(ip) port 52113 ssh2")
                auth(
                    t,
                    "sshd[31337]: pam_unix(sshd:session): session opened for user \(victim)(uid="
                        + "\(1000 + simulation.victim)) by (uid=0)"
                )
            case .connectedAppAuthorised:
                add(t, .crm, CRMLine.json(t, "login", user: victim, address: ip, [("mfa", "true")]))
                add(
                    t + 40 * second,
                    .crm,
                    CRMLine.json(
                        t + 40 * second,
                        "oauth.consent",
                        user: victim,
                        address: ip,
                        [
                            ("app", CRMLine.string("Data Loader")), ("scopes", CRMLine.string("api refresh_token")),
                        ]
                    )
                )
            case .recordViewBurst:
                for n in 0..<Self.burst {
                    let at = t + Int64(n) * 2 * second
                    add(
                        at,
                        .crm,
                        CRMLine.json(
                            at,
                            "record.view",
                            user: victim,
                            address: ip,
                            [
                                ("object", CRMLine.string("Customer")),
                                ("record_id", CRMLine.string("C-\(200_000 + n)")),
                                ("client", CRMLine.string("Data Loader")),
                            ]
                        )
                    )
                }
            case .bulkExport:
                add(
                    t,
                    .crm,
                    CRMLine.json(
                        t,
                        "report.export",
                        user: victim,
                        address: ip,
                        [
                            ("object", CRMLine.string("Customer")), ("rows", "\(Self.exportedRows)"),
                            ("client", CRMLine.string("Data Loader")),
                        ]
                    )
                )
            case .agentStopped:
                auth(
                    t,
                    "sudo: \(victim) : TTY=pts/3 ; PWD=/home/\(victim) ; USER=root ; "
                        + "COMMAND=/usr/bin/systemctl stop flightlog-agent"
                )
            case .coverUp:
                auth(
                    t,
                    "sudo: \(victim) : TTY=pts/3 ; PWD=/home/\(victim) ; USER=root ; "
                        + "COMMAND=/usr/bin/sed -i /\(ip)/d /var/log/auth.log"
                )
            }
        }
        // In time order, equal times in the order written (Swift's sort is not documented as stable).
        return lines.enumerated().sorted { ($0.element.timeNanos, $0.offset) < ($1.element.timeNanos, $1.offset) }
            .map(\.element)
    }
}
