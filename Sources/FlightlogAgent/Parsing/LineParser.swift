public import Foundation

/// Turns one raw line into an event time and fields: RFC 5424 and traditional syslog (with the auth.log messages of
/// sshd, sudo, su, login, passwd, systemd-logind, PAM, account management, cron, polkit, xrdp, vsftpd and the kernel's
/// firewall lines), web server access and error logs, xrdp's and vsftpd's own logs, auditd's audit.log records
/// (``AuditRecord``), JSON objects, or nothing (raw). `docs/FIELDS.md` lists the fields; each parser's file has their
/// table.
///
/// Parsing works on bytes without Foundation formatters or regular expressions, because the agent must
/// keep up with well over 150,000 lines per second on one core. JSON lines of the usual flat shape are read by
/// ``FlatJSON``; only the others (nested values, escapes, fractions) go through `JSONSerialization`.
///
/// Fields are produced only from valid UTF-8 (the raw line travels separately) and always respect
/// `WireLimits`: at most 64 fields, keys up to 255 bytes, values cut to 8192 bytes on a character boundary.
///
/// ## Timestamps
/// - A timestamp with a zone (`Z`, `+01:00`, `-0500`) means exactly that instant.
/// - A timestamp without a zone (an ISO time without offset, or a BSD syslog `Nov 24 10:00:00`) is wall-clock
///   time in the parser's configured `timeZone`, which defaults to the host's zone. Across a daylight-saving
///   change the larger offset is used for the ambiguous or skipped hour.
/// - A BSD syslog timestamp has no year. The year is the observed time's year in the configured zone; if
///   that puts the event more than 7 days after the observed time, the previous year is used (a December
///   line read in January belongs to last year); symmetrically, if the next year puts it at most 7 days after
///   the observed time, the next year is used (a `Jan  1 00:00:01` line read at 23:59:58 on New Year's Eve by a
///   host whose clock is slightly behind the writer's).
/// - JSON numbers are Unix seconds (fractions allowed); values above 1e12 are milliseconds, above 1e14
///   microseconds and above 1e17 nanoseconds.
/// - A line without a recognisable timestamp has `timeNanos == nil`; the caller uses the observed time.
public struct LineParser: Sendable {
    let clock: ZoneClock

    /// Creates a parser that reads zone-less timestamps in `timeZone`.
    public init(timeZone: TimeZone = .current) {
        self.clock = ZoneClock(timeZone: timeZone)
    }

    /// Parses `line` (raw bytes without the newline), read at `observedNanos`.
    /// A line ending in CR (a file with CRLF line ends) is parsed without it, so that no value ends in `\r`; the
    /// caller stores the raw line with its bytes.
    public func parse(_ line: [UInt8], observedNanos: Int64) -> ParsedLine {
        if line.last == UInt8(ascii: "\r") {
            let end = line.lastIndex { $0 != UInt8(ascii: "\r") }.map { $0 + 1 } ?? 0
            return self.parseWithoutCR(Array(line[..<end]), observedNanos: observedNanos)
        }
        return self.parseWithoutCR(line, observedNanos: observedNanos)
    }

    private func parseWithoutCR(_ line: [UInt8], observedNanos: Int64) -> ParsedLine {
        line.withUnsafeBufferPointer { bytes in
            guard let first = bytes.first else { return ParsedLine(timeNanos: nil, fields: [], format: .raw) }
            if first == UInt8(ascii: "{"), let parsed = self.parseJSON(line, observedNanos: observedNanos) {
                return parsed
            }
            // auditd's audit.log: `type=…`, or `node=… type=…`.
            if first == UInt8(ascii: "t") || first == UInt8(ascii: "n"), let parsed = self.parseAudit(bytes) {
                return parsed
            }
            // Web and service logs that are not syslog, told by their first bytes (a syslog line with an ISO time
            // costs two byte comparisons, one with a BSD time or a PRI one or three).
            if Self.mayBeServiceLog(first), let parsed = self.parseServiceLog(bytes, observedNanos: observedNanos) {
                return parsed
            }
            if let parsed = self.parseSyslog(bytes, observedNanos: observedNanos) { return parsed }
            return self.parseServiceLogFallback(bytes, observedNanos: observedNanos)
                ?? ParsedLine(timeNanos: nil, fields: [], format: .raw)
        }
    }

    // MARK: - Time

    /// The instant of `stamp`, applying the zone and year rules in the type's documentation.
    func nanos(of stamp: CivilTime.Stamp, observedNanos: Int64) -> Int64? {
        let local: Int64
        if let year = stamp.year {
            local = CivilTime.seconds(
                year: year,
                month: stamp.month,
                day: stamp.day,
                hour: stamp.hour,
                minute: stamp.minute,
                second: stamp.second
            )
        } else {
            let observedSeconds = observedNanos.floorDiv(1_000_000_000)
            let observedLocal = observedSeconds + self.clock.offset(atUTC: observedSeconds)
            let year = CivilTime.year(fromDays: observedLocal.floorDiv(86_400))
            let thisYear = CivilTime.seconds(
                year: year,
                month: stamp.month,
                day: stamp.day,
                hour: stamp.hour,
                minute: stamp.minute,
                second: stamp.second
            )
            let nextYear = CivilTime.seconds(
                year: year + 1,
                month: stamp.month,
                day: stamp.day,
                hour: stamp.hour,
                minute: stamp.minute,
                second: stamp.second
            )
            if thisYear - observedLocal > 7 * 86_400 {
                local = CivilTime.seconds(
                    year: year - 1,
                    month: stamp.month,
                    day: stamp.day,
                    hour: stamp.hour,
                    minute: stamp.minute,
                    second: stamp.second
                )
            } else if nextYear - observedLocal <= 7 * 86_400 {
                local = nextYear
            } else {
                local = thisYear
            }
        }
        let utc: Int64
        if let offset = stamp.utcOffset {
            utc = local - offset
        } else {
            utc = self.clock.utcSeconds(fromLocal: local)
        }
        let (scaled, overflow) = utc.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflow2) = scaled.addingReportingOverflow(stamp.nanos)
        return overflow2 ? nil : total
    }
}
