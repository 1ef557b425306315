import FlightlogWire

// MARK: - systemd journal entries

/// A journal entry turned into what an event carries: its time, the line to sign and the fields.
struct JournalEvent {
    /// `__REALTIME_TIMESTAMP` in ns.
    var timeNanos: Int64
    /// `MESSAGE`, byte for byte (a binary message is kept as it is); at most ``WireLimits/maxLineLength``.
    var line: [UInt8]
    /// The fields in their wire form.
    var encodedFields: EncodedFields

    var fields: [Event.Field] { self.encodedFields.fields }
}

extension LineParser {
    /// Trusted fields, set by journald from the sending process (a client cannot write a field starting with `_`),
    /// kept under their journald names so that nothing a message claims (a `uid=` an account message names, sudo's
    /// `command`) is mixed with them. `_PID` and `_HOSTNAME` are read apart, as `pid` and `hostname`.
    static let journalTrustedFields: [JournalField] = [.uid, .gid, .comm, .exe, .cmdline, .unit, .bootID, .transport]

    /// Maps one journal entry onto the schema, the way a syslog line of the same message maps:
    ///
    /// - `_HOSTNAME` → `hostname`, `SYSLOG_IDENTIFIER` → `program` (the parsers choose by it, as by a syslog tag;
    ///   `_COMM` when there is none), `_PID` → `pid` (`SYSLOG_PID` when journald recorded none), `PRIORITY` and
    ///   `SYSLOG_FACILITY` → `severity` and `facility`, `MESSAGE` → the line and `message`, parsed by the same
    ///   message parsers as a file line (sshd, PAM, sudo, su, accounts, the kernel's firewall lines…);
    /// - the trusted fields ``journalTrustedFields``, apart from what the sender claims;
    /// - `identity_mismatch` when the identifier names another program than the process journald saw (`_COMM`,
    ///   `_EXE`): anyone may run `logger -t sshd`, and the hunt and the investigator must see it.
    func parseJournal(_ entry: JournalEntry) -> JournalEvent {
        var fields = FieldList()
        if let host = entry[.hostname] { fields.add("hostname", host) }
        var program: String?
        var pamModule: String?
        if let identifier = entry[.identifier] ?? entry[.comm] {
            (program, pamModule) = Self.legacyPAM(identifier)
            fields.add("program", program ?? identifier)
        }
        if let pid = entry[.pid] ?? entry[.syslogPID] { fields.add("pid", pid) }
        if let priority = entry[.priority].flatMap(Int.init), (0..<8).contains(priority) {
            fields.add("severity", Self.severityNames[priority])
        }
        if let facility = entry[.facility].flatMap(Int.init), Self.facilityNames.indices.contains(facility) {
            fields.add("facility", Self.facilityNames[facility])
        }
        let micros = entry.realtimeMicros
        var timeNanos = micros > UInt64(Int64.max / 1000) ? Int64.max : Int64(micros) * 1000
        var message = entry.message ?? []
        if message.count > WireLimits.maxLineLength {
            message.removeSubrange(WireLimits.maxLineLength...)
            fields.add("flightlog.truncated", "MESSAGE")
        }
        if let text = message.withUnsafeBufferPointer(String.init(utf8Validating:)) {
            let trimmed = text.utf8.last == UInt8(ascii: "\n") ? String(text.dropLast()) : text
            fields.add("message", trimmed)
            if let audit = AuditRecord.parse(syslogMessage: trimmed, into: &fields) {
                timeNanos = audit.timeNanos ?? timeNanos
            } else {
                AuthMessage.extract(program: program, pamModule: pamModule, message: trimmed, into: &fields)
            }
        }
        for field in Self.journalTrustedFields {
            if let value = entry[field] { fields.add(field.name, value) }
        }
        if let mismatch = Self.identityMismatch(entry) { fields.add("identity_mismatch", mismatch) }
        return JournalEvent(timeNanos: timeNanos, line: message, encodedFields: fields.encoded)
    }

    /// What is wrong when `SYSLOG_IDENTIFIER` (the sender's claim) names neither `_COMM` nor the file name of
    /// `_EXE` (what journald saw); nil when they agree or there is nothing to compare. `_COMM` is the kernel's
    /// 15-byte task name, so an identifier it begins counts as agreeing, and case is ignored (`CRON` is `cron`).
    ///
    /// journald reads `_COMM` and `_EXE` from /proc when the message arrives: a sender that exits first (`logger`
    /// does, in a millisecond) leaves only its pid and uid. A message a client wrote (`syslog` or `journal`
    /// transport) that claims an identifier with no `_COMM` to check it against is flagged too: the claim is
    /// unverified, and a short-lived `logger -t sshd` must not pass for sshd by being quick.
    static func identityMismatch(_ entry: JournalEntry) -> String? {
        guard let claimed = entry[.identifier] else { return nil }
        guard let comm = entry[.comm] else {
            guard let transport = entry[.transport], transport == "syslog" || transport == "journal" else { return nil }
            return "SYSLOG_IDENTIFIER=\(claimed) but no _COMM: the sender exited before journald could see it"
        }
        let program = Self.legacyPAM(claimed).0.lowercased()
        let task = comm.lowercased()
        if program == task || (task.utf8.count == 15 && program.hasPrefix(task)) { return nil }
        let exe = entry[.exe]
        if let exe, exe.split(separator: "/").last.map({ $0.lowercased() == program }) == true { return nil }
        return "SYSLOG_IDENTIFIER=\(claimed) but _COMM=\(comm)" + (exe.map { " _EXE=\($0)" } ?? "")
    }
}
