// MARK: - Syslog (RFC 5424, RFC 3164 and the ISO-timestamp variant rsyslog writes)

extension LineParser {
    /// Severity keywords by PRI severity number (RFC 5424 §6.2.1).
    static let severityNames = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

    /// Facility keywords by PRI facility number (RFC 5424 §6.2.1, names as syslog.conf spells them).
    static let facilityNames = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        "ntp", "security", "console", "solaris-cron",
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ]

    /// Field keys of the RFC 5424 header words after the timestamp, in order.
    static let rfc5424HeaderKeys = ["hostname", "program", "pid", "msgid"]

    /// Parses a syslog line, or returns nil if the line is not one.
    func parseSyslog(_ bytes: UnsafeBufferPointer<UInt8>, observedNanos: Int64) -> ParsedLine? {
        var index = 0
        var fields = FieldList()
        var priority: Int?
        if bytes[0] == UInt8(ascii: "<") {
            var value = 0
            var count = 0
            var i = 1
            while i < bytes.count, count < 3, CivilTime.isDigit(bytes[i]) {
                value = value * 10 + Int(bytes[i] &- 0x30)
                count += 1
                i += 1
            }
            guard count > 0, CivilTime.byte(bytes, i) == UInt8(ascii: ">"), value <= 191 else { return nil }
            priority = value
            index = i + 1
            fields.add("facility", Self.facilityNames[value >> 3])
            fields.add("severity", Self.severityNames[value & 7])
        }

        if priority != nil, let afterVersion = Self.rfc5424Version(bytes, at: index) {
            return self.parse5424(bytes, from: afterVersion, fields: &fields, observedNanos: observedNanos)
        }

        var stamp = CivilTime.parseBSD(bytes, &index)
        // Without a PRI, only the RFC 3339 form rsyslog writes (with "T") counts, or a time with a space and a zone, as
        // macOS's `log show --style syslog` writes it ("2020-03-25 08:01:34.584936-0700  host sshd[1551]: …", two
        // spaces after it): "2026-11-24 10:00:00,123 INFO …" is an application log, not a syslog header with host "INFO".
        if stamp == nil {
            let separator = CivilTime.byte(bytes, index + 10)
            if priority != nil || separator | 0x20 == UInt8(ascii: "t") {
                stamp = CivilTime.parseISO(bytes, &index)
            } else if separator == UInt8(ascii: " ") {
                var end = index
                if let zoned = CivilTime.parseISO(bytes, &end), zoned.utcOffset != nil {
                    stamp = zoned
                    index = end
                    if CivilTime.byte(bytes, index + 1) == UInt8(ascii: " ") { index += 1 }
                }
            }
        }
        var timeNanos: Int64?
        if let stamp {
            guard CivilTime.byte(bytes, index) == UInt8(ascii: " ") else { return nil }
            index += 1
            timeNanos = self.nanos(of: stamp, observedNanos: observedNanos)
            // Hostname, unless the first word is already the tag (local syslog without a hostname).
            let wordEnd = Self.wordEnd(bytes, from: index)
            let firstWordIsTag =
                wordEnd > index
                && (bytes[wordEnd - 1] == UInt8(ascii: ":")
                    || UnsafeBufferPointer(rebasing: bytes[index..<wordEnd]).contains(UInt8(ascii: "[")))
            if !firstWordIsTag && wordEnd > index {
                fields.add("hostname", utf8: bytes, index..<wordEnd)
                index = min(wordEnd + 1, bytes.count)
            }
        } else if priority == nil {
            return nil
        }

        var program: String?
        var pamModule: String?
        if let tag = Self.tag(bytes, from: index) {
            if let name = Self.text(bytes, tag.program) {
                // A legacy PAM tag, `sshd(pam_unix)[1234]:`, names the service: `--program sshd` finds it.
                (program, pamModule) = Self.legacyPAM(name)
                fields.add("program", program ?? name)
            }
            if let pid = tag.pid { fields.add("pid", utf8: bytes, pid) }
            index = tag.messageStart
        }
        let message = Self.text(bytes, index..<bytes.count)
        if let message { fields.add("message", message) }
        if let message {
            if let audit = AuditRecord.parse(syslogMessage: message, into: &fields) {
                timeNanos = audit.timeNanos ?? timeNanos
            } else {
                AuthMessage.extract(program: program, pamModule: pamModule, message: message, into: &fields)
            }
        }
        return ParsedLine(timeNanos: timeNanos, encodedFields: fields.encoded, format: .rfc3164)
    }

    // MARK: RFC 5424

    /// The index after `VERSION SP` (a 1–3 digit version not starting with 0), if the header has one.
    private static func rfc5424Version(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        var i = index
        guard i < bytes.count, bytes[i] != UInt8(ascii: "0") else { return nil }
        while i < bytes.count, i - index < 3, CivilTime.isDigit(bytes[i]) { i += 1 }
        guard i > index, CivilTime.byte(bytes, i) == UInt8(ascii: " ") else { return nil }
        return i + 1
    }

    /// `TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]` (RFC 5424 §6).
    private func parse5424(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: Int,
        fields: inout FieldList,
        observedNanos: Int64
    ) -> ParsedLine? {
        var index = start
        var timeNanos: Int64?
        if CivilTime.byte(bytes, index) == UInt8(ascii: "-") {
            index += 1
        } else {
            guard let stamp = CivilTime.parseISO(bytes, &index) else { return nil }
            timeNanos = self.nanos(of: stamp, observedNanos: observedNanos)
        }
        guard CivilTime.byte(bytes, index) == UInt8(ascii: " ") else { return nil }
        index += 1
        var program: String?
        for key in Self.rfc5424HeaderKeys {
            let end = Self.wordEnd(bytes, from: index)
            guard end > index else { return nil }
            let isNil = end == index + 1 && bytes[index] == UInt8(ascii: "-")
            if !isNil, let value = Self.text(bytes, index..<end) {
                fields.add(key, value)
                if key == "program" { program = value }
            }
            index = end
            guard index < bytes.count else {
                return ParsedLine(timeNanos: timeNanos, encodedFields: fields.encoded, format: .rfc5424)
            }
            index += 1
        }
        if CivilTime.byte(bytes, index) == UInt8(ascii: "-") {
            index += 1
        } else if let end = Self.structuredData(bytes, from: index, into: &fields) {
            index = end
        }
        if CivilTime.byte(bytes, index) == UInt8(ascii: " ") { index += 1 }
        // MSG may start with a UTF-8 byte order mark (RFC 5424 §6.4).
        if index + 3 <= bytes.count, bytes[index] == 0xEF, bytes[index + 1] == 0xBB, bytes[index + 2] == 0xBF {
            index += 3
        }
        if index < bytes.count, let message = Self.text(bytes, index..<bytes.count) {
            fields.add("message", message)
            if let audit = AuditRecord.parse(syslogMessage: message, into: &fields) {
                timeNanos = audit.timeNanos ?? timeNanos
            } else {
                AuthMessage.extract(program: program, message: message, into: &fields)
            }
        }
        return ParsedLine(timeNanos: timeNanos, encodedFields: fields.encoded, format: .rfc5424)
    }

    /// `1*SD-ELEMENT`, each `"[" SD-ID *(SP PARAM-NAME "=" DQUOTE PARAM-VALUE DQUOTE) "]"`, added as
    /// `sd.<id>.<param>` fields. Returns the index after the last element, or nil if malformed (then the
    /// whole rest is the message).
    private static func structuredData(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: Int,
        into fields: inout FieldList
    ) -> Int? {
        var index = start
        var found: [(String, String)] = []
        while CivilTime.byte(bytes, index) == UInt8(ascii: "[") {
            index += 1
            let idStart = index
            while index < bytes.count, bytes[index] != UInt8(ascii: " "), bytes[index] != UInt8(ascii: "]") {
                index += 1
            }
            guard index > idStart, index < bytes.count, let id = text(bytes, idStart..<index) else { return nil }
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") {
                index += 1
                let nameStart = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "=") { index += 1 }
                guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\""),
                    let name = text(bytes, nameStart..<index)
                else { return nil }
                index += 2
                var value: [UInt8] = []
                var closed = false
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\\"), index + 1 < bytes.count,
                        Self.isSDEscapable(bytes[index + 1])
                    {
                        value.append(bytes[index + 1])
                        index += 2
                        continue
                    }
                    index += 1
                    if byte == UInt8(ascii: "\"") {
                        closed = true
                        break
                    }
                    value.append(byte)
                }
                guard closed else { return nil }
                if let string = String(validating: value, as: UTF8.self) {
                    found.append(("sd.\(id).\(name)", string))
                }
            }
            guard CivilTime.byte(bytes, index) == UInt8(ascii: "]") else { return nil }
            index += 1
        }
        guard index > start else { return nil }
        for (key, value) in found { fields.add(key, value) }
        return index
    }

    // MARK: Pieces

    /// The three characters a backslash escapes in a PARAM-VALUE (RFC 5424 §6.3.3).
    @inline(__always)
    static func isSDEscapable(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "]")
    }

    /// `SERVICE(pam_MODULE)` → (SERVICE, pam_MODULE); any other name → (name, nil).
    static func legacyPAM(_ name: String) -> (String, String?) {
        // One byte decides for nearly every line (this runs once per syslog line).
        guard name.utf8.last == UInt8(ascii: ")"), let open = name.firstIndex(of: "("), open > name.startIndex else {
            return (name, nil)
        }
        let module = name[name.index(after: open)..<name.index(before: name.endIndex)]
        guard module.hasPrefix("pam_") else { return (name, nil) }
        return (String(name[..<open]), String(module))
    }

    /// Where a syslog TAG was found: `program[pid]: ` or `program: `.
    struct Tag {
        var program: Range<Int>
        var pid: Range<Int>?
        var messageStart: Int
    }

    /// The tag at `start`, if the text there has the shape `name[pid]:` or `name:` followed by a space or end.
    static func tag(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Tag? {
        var index = start
        let limit = min(bytes.count, start + 128)
        while index < limit {
            let byte = bytes[index]
            if byte == UInt8(ascii: "[") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: " ") { break }
            index += 1
        }
        guard index > start, index < bytes.count else { return nil }
        let program = start..<index
        var pid: Range<Int>?
        if bytes[index] == UInt8(ascii: "[") {
            let pidStart = index + 1
            var end = pidStart
            while end < min(bytes.count, pidStart + 32), bytes[end] != UInt8(ascii: "]") { end += 1 }
            guard end < bytes.count, bytes[end] == UInt8(ascii: "]"), end > pidStart else { return nil }
            pid = pidStart..<end
            index = end + 1
        }
        guard CivilTime.byte(bytes, index) == UInt8(ascii: ":") else { return nil }
        index += 1
        if index < bytes.count {
            guard bytes[index] == UInt8(ascii: " ") else { return nil }
            index += 1
        }
        return Tag(program: program, pid: pid, messageStart: index)
    }

    /// The index of the first space at or after `start` (or the end).
    static func wordEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.count, bytes[index] != UInt8(ascii: " ") { index += 1 }
        return index
    }

    /// The bytes in `range` as a string, if they are valid UTF-8.
    static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        guard range.lowerBound <= range.upperBound, range.upperBound <= bytes.count else { return nil }
        return String(utf8Validating: UnsafeBufferPointer(rebasing: bytes[range]))
    }
}

extension FieldList {
    /// Adds `bytes[range]` as a value if it is valid UTF-8.
    mutating func add(_ key: String, utf8 bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        guard range.lowerBound <= range.upperBound, range.upperBound <= bytes.count else { return }
        self.add(key, utf8: UnsafeBufferPointer(rebasing: bytes[range]))
    }
}
