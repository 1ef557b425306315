/// Which grammar a line was recognised as.
public enum LineFormat: String, Sendable {
    /// RFC 5424 syslog: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
    case rfc5424
    /// Traditional (RFC 3164) syslog, with or without `<PRI>`, with a BSD or an ISO timestamp.
    case rfc3164
    /// A JSON object on one line.
    case json
    /// A record of auditd's `audit.log`: `type=TYPE msg=audit(SECONDS.MS:SERIAL): …`.
    case audit
    /// A web server's access log line, Common or Combined Log Format (Apache, nginx).
    case accessLog
    /// An Apache or nginx error log line.
    case webErrorLog
    /// A service's own log file that is not syslog (xrdp, vsftpd).
    case serviceLog
    /// Nothing recognised: no time, no fields.
    case raw
}
