public import FlightlogWire

/// Links the records of one audit event so that what happened can be queried as one event: the record that completes
/// a view carries the fields of the records before it, with `audit_view` naming the view.
///
/// The kernel writes the records of a syscall's event one after another, in this order (`kernel/auditsc.c`,
/// `audit_log_exit`): SYSCALL, then EXECVE (or SOCKADDR), then CWD, the PATH records, PROCTITLE and EOE. So each view
/// is complete at a record that is read after the ones it needs, and that record carries it; nothing waits for a
/// later line, and every record stays its own event (its raw line is the evidence):
///
/// | view (`audit_view`) | carried by | when | fields added |
/// |---|---|---|---|
/// | `process_creation` | CWD | an EXECVE record came, and the SYSCALL succeeded | the SYSCALL's, `command` (the EXECVE records' arguments), `parent_exe`, `parent_command` |
/// | `network_connection` | SOCKADDR | the SYSCALL is connect (succeeded, or in progress: EINPROGRESS) or accept, and the address is IPv4 or IPv6 | the SYSCALL's, `dst_ip`, `dst_port`, `initiated` (`true` for connect) |
/// | `file_event` | PATH with `nametype=CREATE` | the SYSCALL succeeded | the SYSCALL's, `path` (the name, after the CWD when relative) |
///
/// The SYSCALL's fields are `exe`, `comm`, `program`, `pid`, `ppid`, `uid`, `auid`, `euid`, `ses`, `tty`, `user`,
/// `outcome` and `key`, as that record has them.
///
/// `parent_exe` and `parent_command` are the executable and command line of the last exec of the parent's pid that
/// this stream showed since the agent started; absent when it showed none. A pid the kernel reused for a process
/// that never exec'd (a fork) would be named with the earlier process's image: auditd does not record forks or
/// exits by default, so nothing here can tell.
///
/// State is kept per stream (a source file and the record's `node=`), bounded: ``openLimit`` events in progress
/// (records of different events can interleave when CPUs finish syscalls together) and ``parentLimit`` execs
/// remembered. It lives in memory: after a restart the agent resumes at a committed offset, and an event whose first
/// records were read before it gets no view (its records are still events).
public struct AuditEventLinker: Sendable {
    /// Events in progress kept per stream; the oldest is dropped past it.
    static let openLimit = 16
    /// Execs remembered per stream for `parent_exe`; the oldest is forgotten past it.
    static let parentLimit = 1024
    /// A parent command line longer than this is not remembered (its `parent_command` is left out, not cut).
    static let parentCommandLimit = 2048
    /// Streams kept; past it the state of every stream is dropped (a source per watched file: never reached when a
    /// few audit logs are watched).
    static let streamLimit = 64

    /// The SYSCALL record's fields a view carries, in this order.
    static let processKeys = [
        "exe", "comm", "program", "pid", "ppid", "uid", "auid", "euid", "ses", "tty", "user", "outcome", "key",
    ]

    /// The streams other than the current one.
    private var streams: [String: Stream] = [:]
    /// The stream of the last record, kept out of the dictionary: records come in runs of one file.
    private var currentKey: String?
    private var current = Stream()

    /// A linker that has seen no record.
    public init() {}

    /// The fields of the records of one event in progress.
    struct OpenEvent: Sendable {
        var serial: String
        var process: [Event.Field] = []
        var arch: String?
        var syscall: String?
        var syscallName: String?
        var firstArgument: String?
        var success: String?
        var exit: String?
        var pid: String?
        var ppid: String?
        var exe: String?
        /// The EXECVE records' arguments, joined with spaces; nil without an EXECVE record.
        var command: String?
        var cwd: String?
    }

    /// One source and node.
    struct Stream: Sendable {
        var open: [OpenEvent] = []
        var parents: [String: (exe: String, command: String?)] = [:]
        var parentOrder: [String] = []
        var parentOldest = 0
    }

    /// Adds a view's fields to `fields`, a record parsed from `source` (``LineFormat/audit``), when this record
    /// completes one; notes what later records of its event need. `line` is the raw record (its first byte tells
    /// whether it names a node).
    public mutating func link(_ fields: inout [Event.Field], line: [UInt8], source: String) {
        guard fields.count >= 2, fields[0].key == "audit_type", fields[1].key == "audit_serial" else { return }
        let type = fields[0].value
        let serial = fields[1].value
        switch type {
        case "SYSCALL", "EXECVE", "CWD", "PATH", "SOCKADDR", "EOE": break
        default: return
        }
        var key = source
        if line.first == UInt8(ascii: "n"), let node = fields.first(where: { $0.key == "node" }) {
            key += "\u{0}" + node.value
        }
        if self.currentKey != key {
            if let previous = self.currentKey { self.streams[previous] = self.current }
            if self.streams[key] == nil, self.streams.count >= Self.streamLimit { self.streams.removeAll() }
            self.current = self.streams.removeValue(forKey: key) ?? Stream()
            self.currentKey = key
        }
        self.current.link(&fields, type: type, serial: serial)
    }
}

// MARK: - One stream

extension AuditEventLinker.Stream {
    typealias OpenEvent = AuditEventLinker.OpenEvent

    mutating func link(_ fields: inout [Event.Field], type: String, serial: String) {
        if type == "SYSCALL" {
            if let index = self.open.lastIndex(where: { $0.serial == serial }) { self.open.remove(at: index) }
            if self.open.count >= AuditEventLinker.openLimit { self.open.removeFirst() }
            self.open.append(Self.syscall(fields, serial: serial))
            return
        }
        guard let index = self.open.lastIndex(where: { $0.serial == serial }) else { return }
        switch type {
        case "EXECVE":
            guard let arguments = fields.first(where: { $0.key == "command" })?.value else { return }
            if let command = self.open[index].command {
                self.open[index].command = (command + " " + arguments).truncatedToUTF8Length(
                    WireLimits.maxFieldValueLength
                )
            } else {
                self.open[index].command = arguments
            }
        case "CWD":
            let cwd = fields.first { $0.key == "cwd" }?.value
            self.open[index].cwd = cwd
            // Checked before the event is copied: most CWD records are not an exec's.
            guard self.open[index].command != nil, self.open[index].success == "yes" else { return }
            self.processCreation(self.open[index], into: &fields)
        case "SOCKADDR":
            self.networkConnection(self.open[index], into: &fields)
        case "PATH":
            // An exec's PATH records name the program and its loader, never a file it created.
            guard self.open[index].command == nil, self.open[index].success == "yes" else { return }
            self.fileEvent(self.open[index], into: &fields)
        default:
            self.open.remove(at: index)
        }
    }

    /// What a SYSCALL record gives the records after it: one pass over its fields, the key's length telling which
    /// few names to compare it with (most of a SYSCALL record's keys are not wanted).
    private static func syscall(_ fields: [Event.Field], serial: String) -> OpenEvent {
        var event = OpenEvent(serial: serial)
        var slots = [String?](repeating: nil, count: AuditEventLinker.processKeys.count)
        for field in fields {
            let key = field.key
            var slot: Int?
            switch key.utf8.count {
            case 2:
                if key == "a0" { event.firstArgument = field.value }
            case 3:
                switch key {
                case "pid":
                    slot = 3
                    if event.pid == nil { event.pid = field.value }
                case "uid": slot = 5
                case "exe":
                    slot = 0
                    if event.exe == nil { event.exe = field.value }
                case "tty": slot = 9
                case "ses": slot = 8
                case "key": slot = 12
                default: break
                }
            case 4:
                switch key {
                case "arch": event.arch = field.value
                case "exit": event.exit = field.value
                case "ppid":
                    slot = 4
                    if event.ppid == nil { event.ppid = field.value }
                case "auid": slot = 6
                case "euid": slot = 7
                case "comm": slot = 1
                case "user": slot = 10
                default: break
                }
            case 7:
                switch key {
                case "syscall": event.syscall = field.value
                case "success": event.success = field.value
                case "SYSCALL": event.syscallName = field.value
                case "program": slot = 2
                case "outcome": slot = 11
                default: break
                }
            default: break
            }
            if let slot, slots[slot] == nil { slots[slot] = field.value }
        }
        event.process.reserveCapacity(slots.count)
        for (slot, value) in slots.enumerated() {
            if let value { event.process.append(Event.Field(AuditEventLinker.processKeys[slot], value)) }
        }
        return event
    }

    /// Adds the view's name, the SYSCALL's fields and `extra` to a record, leaving out keys the record has.
    private static func add(
        _ view: String,
        _ event: OpenEvent,
        _ extra: [Event.Field],
        into fields: inout [Event.Field]
    ) {
        var added = [Event.Field("audit_view", view)] + event.process + extra
        added.removeAll { field in fields.contains { $0.key == field.key } }
        let room = WireLimits.maxFieldsPerEvent - fields.count
        fields.append(contentsOf: added.prefix(max(0, room)))
    }

    // MARK: Views

    private mutating func processCreation(_ event: OpenEvent, into fields: inout [Event.Field]) {
        guard let command = event.command, event.success == "yes" else { return }
        var extra = [Event.Field("command", command)]
        if let ppid = event.ppid, let parent = self.parents[ppid] {
            extra.append(Event.Field("parent_exe", parent.exe))
            if let parentCommand = parent.command { extra.append(Event.Field("parent_command", parentCommand)) }
        }
        Self.add("process_creation", event, extra, into: &fields)
        if let pid = event.pid, let exe = event.exe { self.remember(pid: pid, exe: exe, command: command) }
    }

    private func networkConnection(_ event: OpenEvent, into fields: inout [Event.Field]) {
        guard let call = Self.socketCall(event),
            call == .accept ? event.success == "yes" : (event.success == "yes" || event.exit == "-115"),
            let saddr = fields.first(where: { $0.key == "saddr" })?.value,
            let address = AuditRecord.SocketAddress(hex: saddr)
        else { return }
        let extra = [
            Event.Field("dst_ip", address.ip), Event.Field("dst_port", String(address.port)),
            Event.Field("initiated", call == .connect ? "true" : "false"),
        ]
        Self.add("network_connection", event, extra, into: &fields)
    }

    private func fileEvent(_ event: OpenEvent, into fields: inout [Event.Field]) {
        guard event.command == nil, event.success == "yes",
            let nametype = fields.first(where: { $0.key == "nametype" || $0.key == "objtype" })?.value,
            nametype == "CREATE",
            let name = fields.first(where: { $0.key == "name" })?.value, !name.isEmpty
        else { return }
        let path: String
        if name.utf8.first == UInt8(ascii: "/") {
            path = name
        } else if let cwd = event.cwd {
            path = (cwd.utf8.last == UInt8(ascii: "/") ? cwd : cwd + "/") + name
        } else {
            return
        }
        Self.add("file_event", event, [Event.Field("path", path)], into: &fields)
    }

    // MARK: Syscalls

    enum SocketCall { case connect, accept }

    /// connect, accept or accept4 by the enriched name, or by number on x86-64, arm64 and i386 (whose socketcall
    /// names the call in its first argument).
    static func socketCall(_ event: OpenEvent) -> SocketCall? {
        switch event.syscallName {
        case "connect": return .connect
        case "accept", "accept4": return .accept
        case .some: return nil
        case nil: break
        }
        switch (event.arch, event.syscall) {
        case ("c000003e", "42"), ("c00000b7", "203"), ("40000003", "362"): return .connect
        case ("c000003e", "43"), ("c000003e", "288"), ("c00000b7", "202"), ("c00000b7", "242"), ("40000003", "364"):
            return .accept
        case ("40000003", "102"):
            // socketcall's first argument, in hex as SYSCALL records write it: SYS_CONNECT 3, SYS_ACCEPT 5,
            // SYS_ACCEPT4 18.
            switch event.firstArgument {
            case "3": return .connect
            case "5", "12": return .accept
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: Parents

    private mutating func remember(pid: String, exe: String, command: String) {
        let kept = command.utf8.count <= AuditEventLinker.parentCommandLimit ? command : nil
        if self.parents.updateValue((exe, kept), forKey: pid) != nil { return }
        if self.parentOrder.count < AuditEventLinker.parentLimit {
            self.parentOrder.append(pid)
            return
        }
        self.parents[self.parentOrder[self.parentOldest]] = nil
        self.parentOrder[self.parentOldest] = pid
        self.parentOldest = (self.parentOldest + 1) % AuditEventLinker.parentLimit
    }
}
