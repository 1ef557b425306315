import Foundation

/// The names of the fields the agent's parsers write, and the Elastic Common Schema name each answers to.
///
/// Events keep the agent's short names on the wire and in the store: they are what agents of every release sign, and
/// a signed event cannot be renamed. The ECS name is used where names meet people and other tools: every JSON and
/// CSV output writes it (``ecsName(_:)``), and every place an investigator or a rule names a field (`--where`,
/// `stats --by`, Sigma rules, the hunt's catalogue) accepts either. `docs/SCHEMA.md` is this table in words (a test
/// keeps them equal).
public enum FieldSchema {
    public struct Entry: Sendable, Equatable {
        /// The Elastic Common Schema name (https://www.elastic.co/guide/en/ecs/current/).
        public var ecs: String
        /// The name the agent writes.
        public var flightlog: String
        public var meaning: String
    }

    public static let entries: [Entry] = [
        Entry(ecs: "message", flightlog: "message", meaning: "the message part of a syslog line"),
        Entry(ecs: "log.syslog.hostname", flightlog: "hostname", meaning: "the host the line names (`--log-host`)"),
        Entry(ecs: "log.syslog.facility.name", flightlog: "facility", meaning: "syslog facility"),
        Entry(ecs: "log.syslog.severity.name", flightlog: "severity", meaning: "syslog severity"),
        Entry(ecs: "process.name", flightlog: "program", meaning: "the program (syslog tag; a PAM service)"),
        Entry(ecs: "process.pid", flightlog: "pid", meaning: "its process id"),
        Entry(ecs: "process.parent.pid", flightlog: "ppid", meaning: "the parent's process id (audit)"),
        Entry(ecs: "process.executable", flightlog: "exe", meaning: "the executable's path (audit)"),
        Entry(ecs: "process.command_line", flightlog: "command", meaning: "the command run (sudo, cron, audit)"),
        Entry(ecs: "process.working_directory", flightlog: "cwd", meaning: "working directory (audit)"),
        Entry(
            ecs: "process.parent.executable",
            flightlog: "parent_exe",
            meaning: "the parent's executable, from its last exec the agent saw (audit)"
        ),
        Entry(
            ecs: "process.parent.command_line",
            flightlog: "parent_command",
            meaning: "the parent's command line, from the same exec (audit)"
        ),
        Entry(ecs: "file.path", flightlog: "path", meaning: "a file created (audit), sent or received (vsftpd)"),
        Entry(ecs: "user.name", flightlog: "user", meaning: "who acts: logs in, runs sudo, fails a password"),
        Entry(ecs: "user.target.name", flightlog: "target_user", meaning: "whom it is done to or as (sudo, su)"),
        Entry(ecs: "group.name", flightlog: "group", meaning: "a group added, removed or joined"),
        Entry(ecs: "source.ip", flightlog: "src_ip", meaning: "the remote address (`--ip`)"),
        Entry(ecs: "source.port", flightlog: "src_port", meaning: "its port"),
        Entry(ecs: "source.domain", flightlog: "src_host", meaning: "a remote host given by name (PAM's rhost)"),
        Entry(ecs: "destination.ip", flightlog: "dst_ip", meaning: "the destination address (firewall)"),
        Entry(ecs: "destination.port", flightlog: "dst_port", meaning: "the destination port (firewall)"),
        Entry(ecs: "network.transport", flightlog: "protocol", meaning: "tcp, udp, icmp (firewall)"),
        Entry(ecs: "event.action", flightlog: "action", meaning: "what happened: login, logout, sudo, su…"),
        Entry(ecs: "event.outcome", flightlog: "outcome", meaning: "success or failure"),
        Entry(ecs: "http.request.method", flightlog: "method", meaning: "HTTP method (access logs)"),
        Entry(ecs: "url.original", flightlog: "url", meaning: "the requested URL (access logs)"),
        Entry(ecs: "http.response.status_code", flightlog: "status", meaning: "HTTP status (access logs)"),
        Entry(ecs: "http.response.body.bytes", flightlog: "bytes", meaning: "response size (access logs)"),
        Entry(ecs: "http.request.referrer", flightlog: "referrer", meaning: "the referring page (access logs)"),
        Entry(ecs: "user_agent.original", flightlog: "user_agent", meaning: "the client's user agent (access logs)"),
        Entry(ecs: "http.version", flightlog: "http_version", meaning: "HTTP version (access logs)"),
        Entry(ecs: "observer.ingress.interface.name", flightlog: "in_iface", meaning: "interface in (firewall)"),
        Entry(ecs: "observer.egress.interface.name", flightlog: "out_iface", meaning: "interface out (firewall)"),
        Entry(ecs: "user.id", flightlog: "_UID", meaning: "the sending process's user id, as journald saw it"),
        Entry(ecs: "group.id", flightlog: "_GID", meaning: "its group id, as journald saw it"),
        Entry(ecs: "systemd.unit", flightlog: "_SYSTEMD_UNIT", meaning: "the systemd unit it runs in (journal)"),
        Entry(ecs: "systemd.transport", flightlog: "_TRANSPORT", meaning: "how journald received it (journal)"),
        Entry(ecs: "host.boot.id", flightlog: "_BOOT_ID", meaning: "the boot it was logged in (journal)"),
        Entry(
            ecs: "flightlog.identity_mismatch",
            flightlog: "identity_mismatch",
            meaning: "the claimed program is not the process journald saw (journal)"
        ),
    ]

    private static let byECS: [String: String] = Dictionary(
        Self.entries.map { ($0.ecs.lowercased(), $0.flightlog) },
        uniquingKeysWith: { first, _ in first }
    )

    /// The agent's name for `name` when it is an ECS name the table knows (case-insensitive); else `name`.
    public static func flightlogName(_ name: String) -> String {
        Self.byECS[name.lowercased()] ?? name
    }

    /// The ECS name of the stored name `name` (exact), or `name` when the table has none.
    public static func ecsName(_ name: String) -> String {
        Self.renamed.first { $0.stored.elementsEqual(name.utf8) }.map { String(decoding: $0.ecs, as: UTF8.self) }
            ?? name
    }

    /// The stored names that output renames, with their ECS names, as bytes for the outputs' hot path.
    static let renamed: [(stored: [UInt8], ecs: [UInt8])] = Self.entries.filter { $0.ecs != $0.flightlog }.map {
        (Array($0.flightlog.utf8), Array($0.ecs.utf8))
    }

    /// The index in ``renamed`` of the stored key `key` (its bytes, unescaped, without quotes), or nil. Runs for
    /// every key of every exported event: candidates are found by length, then compared with `memcmp`.
    static func renamedIndex(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        guard key.count < Self.renamedByLength.count, let base = key.baseAddress else { return nil }
        for index in Self.renamedByLength[key.count] {
            let equal = Self.renamed[index].stored.withUnsafeBufferPointer { stored in
                stored.baseAddress.map { memcmp($0, base, key.count) == 0 } ?? false
            }
            if equal { return index }
        }
        return nil
    }

    /// The indices in ``renamed`` of the stored names of each length.
    private static let renamedByLength: [[Int]] = {
        var lists = [[Int]](repeating: [], count: (Self.renamed.map(\.stored.count).max() ?? 0) + 1)
        for (index, entry) in Self.renamed.enumerated() { lists[entry.stored.count].append(index) }
        return lists
    }()
}
