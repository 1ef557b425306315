// MARK: - Logs services write themselves (not syslog)

/// Which non-syslog grammar a line may be, decided by its first bytes so that syslog and JSON lines pay one or two byte
/// comparisons:
///
/// | first bytes                         | tried as                                                            |
/// |-------------------------------------|---------------------------------------------------------------------|
/// | a digit, `:`, or hex then `:`       | access log (an IPv4 or IPv6 client first); `dddd/` an nginx error  |
/// |                                     | log; `dddd-` is an ISO syslog time and goes straight to syslog      |
/// | `[` and a letter                    | Apache error log (`[Wed Oct 11 14:32:52 2000] [error] …`)           |
/// | `[` and a digit                     | xrdp's own log (`[20220407-12:11:06] [INFO ] …`); `[dd/Mon/` is     |
/// |                                     | mod_ssl's request log (`[10/Aug/2018:09:45:56 +0200] 192.0.2.7 …`)  |
/// | anything syslog did not take        | vsftpd's own log (`Wed Jul 27 18:32:27 2016 [pid 2] …`), then an   |
/// |                                     | access log whose client is a host name or follows a virtual host    |
///
/// A line that does not have the whole shape falls back to the syslog and raw paths.
///
/// Fields of xrdp's and vsftpd's own logs: `severity` (xrdp's level), `program` (`vsftpd`), `pid`, `message`, and what
/// `ServiceMessage` finds in the message.
extension LineParser {
    /// Whether `first` can start a line `parseServiceLog` reads: `[`, a digit, `:` or a hex letter.
    @inline(__always)
    static func mayBeServiceLog(_ first: UInt8) -> Bool {
        first == UInt8(ascii: "[") || first == UInt8(ascii: ":") || IPAddress.isHex(first)
    }

    /// The non-syslog grammars a line's first bytes point to, or nil.
    func parseServiceLog(_ bytes: UnsafeBufferPointer<UInt8>, observedNanos: Int64) -> ParsedLine? {
        let first = bytes[0]
        if first == UInt8(ascii: "[") {
            let second = CivilTime.byte(bytes, 1)
            if CivilTime.isDigit(second) {
                // `[dd/Mon/…` or `[d/Mon/…`: mod_ssl's request log; `[YYYYMMDD-…`: xrdp.
                if CivilTime.byte(bytes, 2) == UInt8(ascii: "/") || CivilTime.byte(bytes, 3) == UInt8(ascii: "/") {
                    return self.parseSSLRequestLog(bytes, observedNanos: observedNanos)
                }
                return self.parseXrdpLog(bytes, observedNanos: observedNanos)
            }
            if second &- UInt8(ascii: "A") < 26 { return self.parseApacheError(bytes, observedNanos: observedNanos) }
            return nil
        }
        if CivilTime.isDigit(first) {
            switch CivilTime.byte(bytes, 4) {
            case UInt8(ascii: "-"): return nil  // an ISO timestamp: syslog
            case UInt8(ascii: "/"): return self.parseNginxError(bytes, observedNanos: observedNanos)
            default: return self.parseAccessLog(bytes, observedNanos: observedNanos)
            }
        }
        // `:` or hex letters up to a `:` (an IPv6 client); `Apr`, `Aug`, `Dec`, `Feb` stop at their second or fourth byte.
        var index = 0
        while index < min(bytes.count, 5), IPAddress.isHex(bytes[index]) { index += 1 }
        guard CivilTime.byte(bytes, index) == UInt8(ascii: ":") else { return nil }
        return self.parseAccessLog(bytes, observedNanos: observedNanos)
    }

    /// What syslog did not take: an application's own log, vsftpd's, or an access log that starts with a host name.
    func parseServiceLogFallback(_ bytes: UnsafeBufferPointer<UInt8>, observedNanos: Int64) -> ParsedLine? {
        if CivilTime.isDigit(bytes[0]), CivilTime.byte(bytes, 4) == UInt8(ascii: "-"),
            let parsed = self.parseApplicationLog(bytes, observedNanos: observedNanos)
        {
            return parsed
        }
        if bytes.count > 3, CivilTime.isWeekday(bytes[0], bytes[1], bytes[2]),
            let parsed = self.parseVsftpdLog(bytes, observedNanos: observedNanos)
        {
            return parsed
        }
        return self.parseAccessLog(bytes, observedNanos: observedNanos)
    }

    // MARK: xrdp

    /// `[YYYYMMDD-hh:mm:ss] [LEVEL] MESSAGE` of xrdp.log and xrdp-sesman.log (wall-clock time in the configured zone).
    func parseXrdpLog(_ bytes: UnsafeBufferPointer<UInt8>, observedNanos: Int64) -> ParsedLine? {
        var index = 1
        guard let stamp = CivilTime.parseCompact(bytes, &index, separator: nil, between: UInt8(ascii: "-")),
            CivilTime.byte(bytes, index) == UInt8(ascii: "]"), CivilTime.byte(bytes, index + 1) == UInt8(ascii: " "),
            CivilTime.byte(bytes, index + 2) == UInt8(ascii: "[")
        else { return nil }
        index += 3
        let levelStart = index
        while index < min(bytes.count, levelStart + 8), bytes[index] != UInt8(ascii: "]") { index += 1 }
        guard CivilTime.byte(bytes, index) == UInt8(ascii: "]") else { return nil }
        var fields = FieldList()
        if let level = Self.text(bytes, levelStart..<index) {
            let severity: String? =
                switch level.filter({ $0 != " " }) {
                case "ERROR": "err"
                case "WARN": "warning"
                case "INFO": "info"
                case "DEBUG", "TRACE": "debug"
                default: nil
                }
            if let severity { fields.add("severity", severity) }
        }
        return self.serviceLine(bytes, message: index + 1, stamp, observedNanos, fields, ServiceMessage.xrdp)
    }

    // MARK: Application logs

    /// `YYYY-MM-DD hh:mm:ss[.,fraction][zone] [LEVEL] MESSAGE`: an application's own log, as Python's `logging`,
    /// log4j's and logback's usual layouts and many desktop programs (a softphone) write it. Its time (wall-clock in
    /// the configured zone unless the stamp names one), the level as `severity`, the rest as `message`. Syslog takes
    /// such a line first when its time has a zone and a host and tag follow (macOS's `log show --style syslog`).
    func parseApplicationLog(_ bytes: UnsafeBufferPointer<UInt8>, observedNanos: Int64) -> ParsedLine? {
        var index = 0
        // A time of day must follow the date (`YYYY-MM-DD hh:mm`), or it is not a log line's stamp.
        guard CivilTime.byte(bytes, 13) == UInt8(ascii: ":"), let stamp = CivilTime.parseISO(bytes, &index),
            stamp.isValid, CivilTime.byte(bytes, index) == UInt8(ascii: " ")
        else { return nil }
        index += 1
        var fields = FieldList()
        let levelStart = index
        while index < min(bytes.count, levelStart + 9), bytes[index] &- UInt8(ascii: "A") < 26 { index += 1 }
        if index > levelStart, index == bytes.count || bytes[index] == UInt8(ascii: " ") || bytes[index] == 0x3A,
            let level = Self.text(bytes, levelStart..<index), let severity = Self.severity(ofLevel: level)
        {
            fields.add("severity", severity)
            if CivilTime.byte(bytes, index) == 0x3A { index += 1 }
        } else {
            index = levelStart
        }
        return self.serviceLine(bytes, message: index, stamp, observedNanos, fields) { _, _ in }
    }

    /// The syslog severity name of a logging library's level word, or nil for a word that is not one.
    static func severity(ofLevel level: String) -> String? {
        switch level {
        case "FATAL", "CRITICAL", "CRIT": "crit"
        case "ERROR", "ERR", "SEVERE": "err"
        case "WARN", "WARNING": "warning"
        case "NOTICE": "notice"
        case "INFO": "info"
        case "DEBUG", "TRACE", "FINE", "FINER", "FINEST": "debug"
        default: nil
        }
    }

    // MARK: vsftpd

    /// `Www Mmm dd hh:mm:ss yyyy [pid N] MESSAGE` of vsftpd.log (wall-clock time in the configured zone).
    func parseVsftpdLog(_ bytes: UnsafeBufferPointer<UInt8>, observedNanos: Int64) -> ParsedLine? {
        var index = 0
        guard let stamp = CivilTime.parseCTime(bytes, &index), CivilTime.starts(bytes, index, bytes.count, " [pid ")
        else { return nil }
        index += 6
        let pidStart = index
        while index < bytes.count, CivilTime.isDigit(bytes[index]) { index += 1 }
        guard index > pidStart, CivilTime.byte(bytes, index) == UInt8(ascii: "]") else { return nil }
        var fields = FieldList()
        fields.add("program", "vsftpd")
        fields.add("pid", utf8: bytes, pidStart..<index)
        return self.serviceLine(bytes, message: index + 1, stamp, observedNanos, fields, ServiceMessage.vsftpd)
    }

    /// A service log line once its header is read: the message from `start` (after one space, if any) kept and read
    /// by `reading`, the time from the header's `stamp`.
    private func serviceLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        message start: Int,
        _ stamp: CivilTime.Stamp,
        _ observedNanos: Int64,
        _ header: FieldList,
        _ reading: (Substring, inout FieldList) -> Void
    ) -> ParsedLine {
        var fields = header
        let index = CivilTime.byte(bytes, start) == UInt8(ascii: " ") ? start + 1 : start
        if let message = Self.text(bytes, index..<bytes.count) {
            fields.add("message", message)
            reading(Substring(message), &fields)
        }
        return ParsedLine(
            timeNanos: self.nanos(of: stamp, observedNanos: observedNanos),
            encodedFields: fields.encoded,
            format: .serviceLog
        )
    }
}
