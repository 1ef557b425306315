import Glibc

/// The journal fields the agent reads from an entry; the others are left in the journal file.
enum JournalField: Int, CaseIterable {
    case message, hostname, identifier, pid, syslogPID, priority, facility
    case uid, gid, comm, exe, cmdline, unit, bootID, transport

    /// The field's name in the journal.
    var name: String {
        switch self {
        case .message: "MESSAGE"
        case .hostname: "_HOSTNAME"
        case .identifier: "SYSLOG_IDENTIFIER"
        case .pid: "_PID"
        case .syslogPID: "SYSLOG_PID"
        case .priority: "PRIORITY"
        case .facility: "SYSLOG_FACILITY"
        case .uid: "_UID"
        case .gid: "_GID"
        case .comm: "_COMM"
        case .exe: "_EXE"
        case .cmdline: "_CMDLINE"
        case .unit: "_SYSTEMD_UNIT"
        case .bootID: "_BOOT_ID"
        case .transport: "_TRANSPORT"
        }
    }

    /// The fields by the length of their name, each with its name's bytes: a data object's name is compared with
    /// the few names of its length only.
    static let byNameLength: [[(field: JournalField, name: [UInt8])]] = {
        var table = [[(field: JournalField, name: [UInt8])]](repeating: [], count: 32)
        for field in JournalField.allCases { table[field.name.utf8.count].append((field, Array(field.name.utf8))) }
        return table
    }()

    /// The field named by `name` (the bytes before `=` of a data object), if the agent reads it. Runs for every data
    /// object of every entry (~25 an entry, most of them not read): length first, then `memcmp`.
    static func named(_ name: UnsafeRawBufferPointer) -> JournalField? {
        guard name.count < Self.byNameLength.count, let base = name.baseAddress else { return nil }
        for candidate in Self.byNameLength[name.count] {
            let equal = candidate.name.withUnsafeBytes {
                $0.baseAddress.map { memcmp($0, base, name.count) == 0 } ?? false
            }
            if equal { return candidate.field }
        }
        return nil
    }
}

/// One journal entry as the agent reads it: its time, its sequence number and the fields of ``JournalField``.
struct JournalEntry {
    /// `__REALTIME_TIMESTAMP`: µs since the Unix epoch, when journald received the entry.
    var realtimeMicros: UInt64
    /// The sequence-number id and number its cursor carries; nil if the cursor could not be read.
    var cursor: JournalCursor?
    /// `MESSAGE`, byte for byte (binary kept); nil when the entry has none.
    var message: [UInt8]?
    /// The other fields read, valid UTF-8 only, by ``JournalField/rawValue`` (`message` is never here).
    var values: [String?]

    init(realtimeMicros: UInt64, cursor: JournalCursor?) {
        self.realtimeMicros = realtimeMicros
        self.cursor = cursor
        self.values = [String?](repeating: nil, count: JournalField.allCases.count)
    }

    /// An entry made of `FIELD=value` pairs (the first of a repeated field counts, as the agent reads it).
    init(realtimeMicros: UInt64, pairs: [(String, [UInt8])]) {
        self.init(realtimeMicros: realtimeMicros, cursor: nil)
        for (name, value) in pairs {
            let field = Array(name.utf8).withUnsafeBytes { JournalField.named($0) }
            if let field { self.set(field, value.withUnsafeBytes { $0 }) }
        }
    }

    subscript(_ field: JournalField) -> String? { self.values[field.rawValue] }

    /// Sets `field` from the bytes of its value, unless it is set already.
    mutating func set(_ field: JournalField, _ value: UnsafeRawBufferPointer) {
        if field == .message {
            if self.message == nil { self.message = Array(value) }
            return
        }
        guard self.values[field.rawValue] == nil else { return }
        self.values[field.rawValue] = String(utf8Validating: value.assumingMemoryBound(to: UInt8.self))
    }
}
