import FlightlogWire

// MARK: - auditd's audit.log

extension LineParser {
    /// Parses a record of auditd's `audit.log`, `type=TYPE msg=audit(SECONDS.MS:SERIAL): …` (after `node=NAME ` when
    /// auditd's `name_format` is set), or returns nil if the line does not start that way.
    func parseAudit(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedLine? {
        var fields = FieldList()
        guard let record = AuditRecord.parse(bytes, 0..<bytes.count, into: &fields) else { return nil }
        return ParsedLine(timeNanos: record.timeNanos, encodedFields: fields.encoded, format: .audit)
    }
}

/// One record of the Linux audit system, as auditd writes it to `audit.log` (one record a line) or as audispd,
/// `audisp-syslog` and the kernel pass it to syslog.
///
/// A record becomes one event: `audit_type` (the record type; a number the kernel writes is named, `1400` → `AVC`),
/// `audit_serial` (the number after the colon in `audit(…)`, which every record of one audit event shares), the event
/// time from `audit(SECONDS.MS…)` to the millisecond, and every `key=value` pair of the record:
/// - values unquoted; the values auditd hex-encodes when they hold a space, a quote or a control character (`exe`,
///   `comm`, `cwd`, `name`, `proctitle`, `cmd`, `acct`, `key`, an EXECVE record's `aN`, …) decoded to text, a NUL
///   (between proctitle's arguments) shown as a space and the 0x01 between several rule keys as a comma; a value that
///   does not decode to UTF-8 is kept in hex;
/// - the pairs inside a user-space record's `msg='…'` flattened in, with the forms older PAM and auditd wrote (an
///   unquoted value running over words without `=`, like `op=adding group to /etc/group`; `(hostname=?, addr=?, …)`);
/// - `old auid=`, `new ses=` of RHEL 6's LOGIN records as `old_auid`, `new_ses`;
/// - the names auditd appends after a 0x1D byte when `log_format = ENRICHED` (`AUID="mchen" UID="root" …`).
///
/// Mapped to the fields investigators query: `user` (`acct=` of a user-space record, else the enriched `AUID`, else
/// the enriched `UID` name; never a name made up from a number), `src_ip` (`addr=` when it is an address), `program`
/// (`comm`, else the last component of `exe`), `outcome` (`res=`, else `success=`) and `command` (an EXECVE record's
/// arguments joined with spaces, a PROCTITLE record's command line, a USER_CMD record's `cmd`).
///
/// An event holds at most ``WireLimits/maxFieldsPerEvent`` fields: when a record has more pairs (an EXECVE record of a
/// long command line), or a value is longer than ``WireLimits/maxFieldValueLength``, the pairs that identify the
/// process and its outcome are kept, later pairs are dropped or cut, and `truncated=true` says so.
enum AuditRecord {
    /// What the record's header said, beyond its fields.
    struct Header {
        /// `audit(SECONDS.MS:…)` in ns since the Unix epoch; nil if the record has no readable time stamp.
        var timeNanos: Int64?
    }

    /// A record carried by a syslog message, or nil (with nothing added): audispd's and `audisp-syslog`'s
    /// `[node=NAME ]type=TYPE msg=audit(…): …`, and the kernel's `[ SECONDS.MICROS] audit: type=NUMBER audit(…): …`.
    /// rsyslog's escape of the enrichment separator, `#035`, counts as the separator.
    static func parse(syslogMessage message: String, into fields: inout FieldList) -> Header? {
        guard let first = message.utf8.first,
            first == UInt8(ascii: "t") || first == UInt8(ascii: "n") || first == UInt8(ascii: "a")
                || first == UInt8(ascii: "[")
        else { return nil }
        var message = message
        return message.withUTF8 { bytes -> Header? in
            var start = 0
            if first == UInt8(ascii: "[") {
                // The kernel's own time stamp, `[ 1234.567890] `.
                var close = 1
                while close < min(bytes.count, 32), bytes[close] != UInt8(ascii: "]") { close += 1 }
                guard close < bytes.count, bytes[close] == UInt8(ascii: "]") else { return nil }
                start = Self.skipSpaces(bytes, close + 1, bytes.count)
            }
            if CivilTime.starts(bytes, start, bytes.count, "audit: ") { start += 7 }
            return Self.parse(bytes, start..<bytes.count, into: &fields, inSyslog: true)
        }
    }

    /// Parses the record in `range` (starting at `node=` or `type=`) into `fields`; nil, with nothing added, if the
    /// text does not start that way. `inSyslog`: the record is a syslog message's, whose fields `fields` holds.
    static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        into fields: inout FieldList,
        inSyslog: Bool = false
    ) -> Header? {
        var index = range.lowerBound
        let end = range.upperBound
        var node: Range<Int>?
        if CivilTime.starts(bytes, index, end, "node=") {
            let start = index + 5
            index = Self.wordEnd(bytes, start, end)
            node = start..<index
            index = Self.skipSpaces(bytes, index, end)
        }
        guard CivilTime.starts(bytes, index, end, "type=") else { return nil }
        let typeStart = index + 5
        index = Self.wordEnd(bytes, typeStart, end)
        let typeRange = typeStart..<index
        index = Self.skipSpaces(bytes, index, end)

        var header = Header()
        var serial: Range<Int>?
        if CivilTime.starts(bytes, index, end, "msg=audit(") || CivilTime.starts(bytes, index, end, "audit(") {
            let open = index + (bytes[index] == UInt8(ascii: "m") ? 10 : 6)
            if let stamp = Self.stamp(bytes, open, end) {
                header.timeNanos = stamp.nanos
                serial = stamp.serial
                index = stamp.end
            }
        }

        var scanner = Scanner(bytes: bytes, type: Self.typeName(bytes, typeRange))
        if let node, let value = Self.text(bytes, node) { scanner.append("node", value) }
        // `log_format = ENRICHED`: the names auditd resolved follow a 0x1D (group separator).
        var bodyEnd = index
        var separatorLength = 1
        while bodyEnd < end, bytes[bodyEnd] != 0x1D {
            if inSyslog, bytes[bodyEnd] == UInt8(ascii: "#"), CivilTime.starts(bytes, bodyEnd, end, "#035") {
                separatorLength = 4
                break
            }
            bodyEnd += 1
        }
        scanner.scan(index..<bodyEnd, inner: false)
        if bodyEnd < end { scanner.scan(bodyEnd + separatorLength..<end, inner: false) }
        scanner.finish(
            serial: serial.flatMap { Self.text(bytes, $0) },
            into: &fields,
            keepingSyslogFields: inSyslog
        )
        return header
    }

    // MARK: Header

    /// `SECONDS[.FRACTION]:SERIAL)` followed by an optional `:`, at `start`.
    private static func stamp(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ end: Int
    ) -> (nanos: Int64?, serial: Range<Int>, end: Int)? {
        var index = start
        var seconds: Int64 = 0
        while index < end, index - start < 12, CivilTime.isDigit(bytes[index]) {
            seconds = seconds * 10 + Int64(bytes[index] &- 0x30)
            index += 1
        }
        guard index > start, index < end else { return nil }
        var fraction: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < end, CivilTime.isDigit(bytes[index]) {
                if digits < 9 {
                    fraction = fraction * 10 + Int64(bytes[index] &- 0x30)
                    digits += 1
                }
                index += 1
            }
            while digits < 9 {
                fraction *= 10
                digits += 1
            }
        }
        guard index < end, bytes[index] == UInt8(ascii: ":") else { return nil }
        index += 1
        let serialStart = index
        while index < end, CivilTime.isDigit(bytes[index]) { index += 1 }
        guard index > serialStart, index < end, bytes[index] == UInt8(ascii: ")") else { return nil }
        let serial = serialStart..<index
        index += 1
        if index < end, bytes[index] == UInt8(ascii: ":") { index += 1 }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return (overflow ? nil : scaled + fraction, serial, index)
    }

    /// The record type; a number (as the kernel writes it to syslog) named as auditd names it.
    private static func typeName(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        guard let text = Self.text(bytes, range) else { return nil }
        guard range.count == 4, let number = Int(text) else { return text }
        return Self.numberedTypes[number] ?? text
    }

    /// The record types of `linux/audit.h` and auditd's `audit-records.h` that reach logs most often.
    static let numberedTypes: [Int: String] = [
        1006: "LOGIN", 1100: "USER_AUTH", 1101: "USER_ACCT", 1102: "USER_MGMT", 1103: "CRED_ACQ", 1104: "CRED_DISP",
        1105: "USER_START", 1106: "USER_END", 1107: "USER_AVC", 1108: "USER_CHAUTHTOK", 1109: "USER_ERR",
        1110: "CRED_REFR", 1111: "USYS_CONFIG", 1112: "USER_LOGIN", 1113: "USER_LOGOUT", 1114: "ADD_USER",
        1115: "DEL_USER", 1116: "ADD_GROUP", 1117: "DEL_GROUP", 1123: "USER_CMD", 1124: "USER_TTY",
        1127: "SYSTEM_BOOT", 1128: "SYSTEM_SHUTDOWN", 1129: "SYSTEM_RUNLEVEL", 1130: "SERVICE_START",
        1131: "SERVICE_STOP", 1132: "GRP_MGMT", 1138: "SOFTWARE_UPDATE", 1300: "SYSCALL", 1302: "PATH",
        1305: "CONFIG_CHANGE", 1306: "SOCKADDR", 1307: "CWD", 1309: "EXECVE", 1319: "TTY", 1320: "EOE",
        1321: "BPRM_FCAPS", 1323: "MMAP", 1325: "NETFILTER_CFG", 1326: "SECCOMP", 1327: "PROCTITLE",
        1330: "KERN_MODULE", 1334: "BPF", 1400: "AVC", 1401: "SELINUX_ERR", 1404: "MAC_STATUS",
        1700: "ANOM_PROMISCUOUS", 1701: "ANOM_ABEND", 2100: "ANOM_LOGIN_FAILURES",
    ]

    // MARK: Bytes

    static func wordEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var index = start
        while index < end, bytes[index] != UInt8(ascii: " ") { index += 1 }
        return index
    }

    static func skipSpaces(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var index = start
        while index < end, bytes[index] == UInt8(ascii: " ") { index += 1 }
        return index
    }

    /// The bytes as a string if they are valid UTF-8.
    static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        String(utf8Validating: UnsafeBufferPointer(rebasing: bytes[range]))
    }

    /// The value of a hex digit as auditd writes them (upper case).
    @inline(__always)
    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte &- UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }

    /// Whether the bytes are an even number (at least 2) of upper-case hex digits.
    static func isHex(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard range.count >= 2, range.count % 2 == 0 else { return false }
        for index in range where Self.nibble(bytes[index]) == nil { return false }
        return true
    }

    /// Decodes the hex digits of `range` (checked by ``isHex(_:_:)``), at most `limit` bytes of them, appending to
    /// `output`. Returns whether everything was decoded.
    @discardableResult
    static func appendHex(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        to output: inout [UInt8],
        limit: Int
    ) -> Bool {
        var index = range.lowerBound
        while index + 1 < range.upperBound {
            guard output.count < limit else { return false }
            guard let high = Self.nibble(bytes[index]), let low = Self.nibble(bytes[index + 1]) else { return false }
            output.append(high << 4 | low)
            index += 2
        }
        return true
    }

    /// Field keys whose unquoted values auditd hex-encodes (auparse's escaped fields), besides EXECVE's `aN`.
    static let hexKeys: Set<String> = [
        "exe", "comm", "path", "file", "name", "watch", "cwd", "cmd", "acct", "dir", "key", "vm", "proctitle", "data",
        "sw", "root_dir", "ocomm", "grp", "new_group", "device", "cgroup", "old-chardev", "new-chardev", "old-disk",
        "new-disk", "old-fs", "new-fs", "old-net", "new-net", "old-rng", "new-rng", "invalid_context", "apparmor",
        "operation", "denied_mask", "info", "profile", "requested_mask",
    ]

    /// The pairs kept first when a record has more than an event can hold: who, what, the rule and the outcome.
    static let essentialKeys: Set<String> = [
        "node", "auid", "uid", "euid", "pid", "ppid", "ses", "tty", "exe", "comm", "key", "res", "success", "exit",
        "syscall", "acct", "addr", "hostname", "terminal", "op", "cmd", "cwd", "name", "proctitle", "argc", "AUID",
        "UID",
    ]
}

// MARK: - Scanning the pairs

extension AuditRecord {
    /// The pairs of one record, and what the standard fields are made of.
    struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        let type: String?
        let isExecve: Bool
        var pairs: [(key: String, value: String)] = []
        /// A pair or part of a value could not be kept.
        var truncated = false

        var acct: String?
        var enrichedAUID: String?
        var enrichedUID: String?
        var address: String?
        var comm: String?
        var exe: String?
        var res: String?
        var success: String?
        var proctitle: String?
        var cmd: String?
        /// An EXECVE record's arguments, decoded, joined with spaces.
        var arguments: [UInt8] = []
        var argumentsCut = false

        /// Pairs kept before only the essential ones are: more could never fit in an event.
        static let pairLimit = WireLimits.maxFieldsPerEvent

        /// Longest decoded value kept (the field limit, plus room to end on a character boundary).
        static let valueLimit = WireLimits.maxFieldValueLength + 4

        init(bytes: UnsafeBufferPointer<UInt8>, type: String?) {
            self.bytes = bytes
            self.type = type
            self.isExecve = type == "EXECVE"
        }

        mutating func append(_ key: String, _ value: String) {
            if self.pairs.count < Self.pairLimit {
                self.pairs.append((key, value))
            } else {
                self.truncated = true
                if AuditRecord.essentialKeys.contains(key), !self.pairs.contains(where: { $0.key == key }) {
                    self.pairs.append((key, value))
                }
            }
        }

        /// Scans `key=value` pairs: the record's own (`inner == false`) or those inside a user-space `msg='…'`.
        mutating func scan(_ range: Range<Int>, inner: Bool) {
            let bytes = self.bytes
            let end = range.upperBound
            var index = range.lowerBound
            // RHEL 6's LOGIN record: `old auid=500 new auid=500 old ses=1 new ses=2`.
            var prefix: String?
            var inParentheses = false
            while index < end {
                index = AuditRecord.skipSpaces(bytes, index, end)
                guard index < end else { break }
                let wordStart = index
                while index < end, bytes[index] != UInt8(ascii: "="), bytes[index] != UInt8(ascii: " ") { index += 1 }
                if index == end || bytes[index] == UInt8(ascii: " ") {
                    // A word without `=`: text such as `avc:  denied` or `auditd start,`, or RHEL 6's `old`/`new`.
                    let length = index - wordStart
                    if !inner, length == 3, CivilTime.starts(bytes, wordStart, index, "old") {
                        prefix = "old_"
                    } else if !inner, length == 3, CivilTime.starts(bytes, wordStart, index, "new") {
                        prefix = "new_"
                    } else {
                        prefix = nil
                    }
                    continue
                }
                var keyStart = wordStart
                if inner, bytes[keyStart] == UInt8(ascii: "(") {
                    keyStart += 1
                    inParentheses = true
                }
                let keyRange = keyStart..<index
                index += 1
                if index < end, bytes[index] == UInt8(ascii: "\"") {
                    // Quoted: auditd hex-encodes any value that holds a quote, so the next quote closes it.
                    var close = index + 1
                    while close < end, bytes[close] != UInt8(ascii: "\"") { close += 1 }
                    guard close < end else {
                        // An unterminated quote: the line was cut. What is before it stands.
                        self.truncated = true
                        break
                    }
                    self.pair(keyRange, prefix: prefix, value: index + 1..<close, quoted: true)
                    index = close + 1
                } else if !inner, index < end, bytes[index] == UInt8(ascii: "'"), keyRange.count == 3,
                    CivilTime.starts(bytes, keyRange.lowerBound, keyRange.upperBound, "msg")
                {
                    // A user-space record's own pairs, up to the last quote (or the end of a line that was cut).
                    var close = end - 1
                    while close > index, bytes[close] != UInt8(ascii: "'") { close -= 1 }
                    if close == index {
                        close = end
                        self.truncated = true
                    }
                    self.scan(index + 1..<close, inner: true)
                    index = min(close + 1, end)
                } else {
                    let valueStart = index
                    index = AuditRecord.wordEnd(bytes, index, end)
                    var valueEnd = index
                    if inner {
                        // Filebeat's reading of user-space text: words without `=` continue the value
                        // (`op=adding group to /etc/group id=1004`), except PAM's lone `:` and `(` groups.
                        while true {
                            let next = AuditRecord.skipSpaces(bytes, index, end)
                            guard next < end, bytes[next] != UInt8(ascii: "("), bytes[next] != UInt8(ascii: "'")
                            else { break }
                            let nextEnd = AuditRecord.wordEnd(bytes, next, end)
                            if nextEnd == next + 1, bytes[next] == UInt8(ascii: ":") { break }
                            if bytes[next..<nextEnd].contains(UInt8(ascii: "=")) { break }
                            valueEnd = nextEnd
                            index = nextEnd
                        }
                        // `(hostname=?, addr=?, terminal=cron res=success)`
                        if valueEnd > valueStart, bytes[valueEnd - 1] == UInt8(ascii: ",") { valueEnd -= 1 }
                        if inParentheses, valueEnd > valueStart, bytes[valueEnd - 1] == UInt8(ascii: ")") {
                            valueEnd -= 1
                            inParentheses = false
                        }
                    }
                    self.pair(keyRange, prefix: prefix, value: valueStart..<valueEnd, quoted: false)
                }
                prefix = nil
            }
        }

        /// One pair: its value unquoted or decoded, noted for the standard fields, kept.
        private mutating func pair(_ keyRange: Range<Int>, prefix: String?, value valueRange: Range<Int>, quoted: Bool)
        {
            guard keyRange.count > 0, var key = AuditRecord.text(self.bytes, keyRange) else { return }
            if let prefix { key = prefix + key }
            if keyRange.count > WireLimits.maxFieldKeyLength { self.truncated = true }
            let argument = self.isExecve && Self.isArgument(self.bytes, keyRange)
            var value: String?
            if !quoted, AuditRecord.isHex(self.bytes, valueRange), argument || AuditRecord.hexKeys.contains(key) {
                var decoded: [UInt8] = []
                decoded.reserveCapacity(min(valueRange.count / 2, Self.valueLimit))
                if !AuditRecord.appendHex(self.bytes, valueRange, to: &decoded, limit: Self.valueLimit) {
                    self.truncated = true
                }
                if argument { self.appendArgument(decoded, chunk: Self.isChunk(self.bytes, keyRange)) }
                value = Self.decodedText(decoded, key: key)
            } else if argument {
                let shown = valueRange.lowerBound..<min(valueRange.upperBound, valueRange.lowerBound + Self.valueLimit)
                self.appendArgument(Array(self.bytes[shown]), chunk: false)
            }
            if value == nil {
                var range = valueRange
                if range.count > Self.valueLimit {
                    range = range.lowerBound..<range.lowerBound + Self.valueLimit
                    self.truncated = true
                    value = Self.boundedText(Array(self.bytes[range]))
                } else {
                    value = AuditRecord.text(self.bytes, range)
                }
            }
            guard let value else { return }
            if value.utf8.count > WireLimits.maxFieldValueLength { self.truncated = true }
            self.note(key, value)
            self.append(key, value)
        }

        /// `aN` or `aN[M]` (a part of a long argument), the arguments of an EXECVE record.
        static func isArgument(_ bytes: UnsafeBufferPointer<UInt8>, _ key: Range<Int>) -> Bool {
            guard key.count >= 2, bytes[key.lowerBound] == UInt8(ascii: "a") else { return false }
            var index = key.lowerBound + 1
            while index < key.upperBound, CivilTime.isDigit(bytes[index]) { index += 1 }
            guard index > key.lowerBound + 1 else { return false }
            return index == key.upperBound || bytes[index] == UInt8(ascii: "[")
        }

        static func isChunk(_ bytes: UnsafeBufferPointer<UInt8>, _ key: Range<Int>) -> Bool {
            bytes[key.upperBound - 1] == UInt8(ascii: "]")
                && !(bytes[key.upperBound - 2] == UInt8(ascii: "0")
                    && bytes[key.upperBound - 3] == UInt8(ascii: "["))
        }

        /// Adds an argument (or the next part of one) to the command line.
        private mutating func appendArgument(_ argument: [UInt8], chunk: Bool) {
            guard !self.argumentsCut else { return }
            if !chunk && !self.arguments.isEmpty { self.arguments.append(UInt8(ascii: " ")) }
            let room = Self.valueLimit - self.arguments.count
            if argument.count > room {
                self.arguments.append(contentsOf: argument.prefix(max(room, 0)))
                self.argumentsCut = true
            } else {
                self.arguments.append(contentsOf: argument)
            }
        }

        /// Decoded bytes as text: NUL (between proctitle's arguments) as a space, and the 0x01 between several rule
        /// keys as a comma; nil if they are not UTF-8.
        static func decodedText(_ decoded: [UInt8], key: String) -> String? {
            var bytes = decoded
            let isKey = key == "key"
            for index in bytes.indices {
                if bytes[index] == 0 {
                    bytes[index] = UInt8(ascii: " ")
                } else if isKey && bytes[index] == 1 {
                    bytes[index] = UInt8(ascii: ",")
                }
            }
            return Self.boundedText(bytes)
        }

        /// The bytes as text, without a character cut at their end by a length limit; nil if they are not UTF-8.
        static func boundedText(_ bytes: [UInt8]) -> String? {
            if let text = bytes.withUnsafeBufferPointer(String.init(utf8Validating:)) { return text }
            guard bytes.count >= Self.valueLimit else { return nil }
            // A cut in the middle of a character: drop the partial character's bytes.
            var end = bytes.count
            var dropped = 0
            while end > 0, dropped < 3, bytes[end - 1] & 0xC0 == 0x80 {
                end -= 1
                dropped += 1
            }
            if end > 0, bytes[end - 1] >= 0xC0 { end -= 1 }
            return bytes[..<end].withUnsafeBufferPointer(String.init(utf8Validating:))
        }

        /// Notes the values the standard fields are made of.
        private mutating func note(_ key: String, _ value: String) {
            // Most keys are none of these: their first byte says so without ten string comparisons.
            switch key.utf8.first {
            case UInt8(ascii: "a"), UInt8(ascii: "A"), UInt8(ascii: "U"), UInt8(ascii: "c"), UInt8(ascii: "e"),
                UInt8(ascii: "r"), UInt8(ascii: "s"), UInt8(ascii: "p"):
                break
            default:
                return
            }
            switch key {
            case "acct": if self.acct == nil, Self.names(value) { self.acct = value }
            case "AUID": if self.enrichedAUID == nil, Self.names(value) { self.enrichedAUID = value }
            case "UID": if self.enrichedUID == nil, Self.names(value) { self.enrichedUID = value }
            case "addr": if self.address == nil, AuthMessage.looksLikeIP(Substring(value)) { self.address = value }
            case "comm": if self.comm == nil, Self.names(value) { self.comm = value }
            case "exe": if self.exe == nil, Self.names(value) { self.exe = value }
            case "res": if self.res == nil { self.res = value }
            case "success": if self.success == nil { self.success = value }
            case "proctitle": if self.proctitle == nil { self.proctitle = value }
            case "cmd": if self.cmd == nil { self.cmd = value }
            default: break
            }
        }

        /// Whether a value names something: not empty, not `?`, and not a placeholder such as `(null)`, `(unknown)`,
        /// `(invalid user)` or auditd's `unset`.
        static func names(_ value: String) -> Bool {
            guard let first = value.utf8.first else { return false }
            return first != UInt8(ascii: "?") && first != UInt8(ascii: "(") && value != "unset"
        }

        static func outcome(_ value: String?) -> String? {
            switch value {
            case "success", "yes", "1": return "success"
            case "failed", "failure", "fail", "no", "0": return "failure"
            default: return nil
            }
        }

        /// Adds the record's fields: type and serial, the standard fields, then the pairs as far as they fit. In a
        /// syslog message (`keepingSyslogFields`), a standard field the syslog header already gave (`program`: the
        /// `kernel` or `audispd` tag) stays as it is.
        mutating func finish(serial: String?, into fields: inout FieldList, keepingSyslogFields: Bool = false) {
            func standard(_ key: String, _ value: String) {
                if keepingSyslogFields { fields.addIfAbsent(key, value) } else { fields.add(key, value) }
            }
            if let type { fields.add("audit_type", type) }
            if let serial { fields.add("audit_serial", serial) }
            if let user = self.acct ?? self.enrichedAUID ?? self.enrichedUID { standard("user", user) }
            if let address { standard("src_ip", address) }
            if let program = self.comm ?? self.exe.map(Self.lastComponent) { standard("program", program) }
            if let outcome = Self.outcome(self.res) ?? Self.outcome(self.success) { standard("outcome", outcome) }
            if self.isExecve, !self.arguments.isEmpty {
                if self.argumentsCut { self.truncated = true }
                if let command = Self.boundedText(self.arguments) { standard("command", command) }
            } else if let command = self.type == "PROCTITLE" ? self.proctitle : self.cmd {
                standard("command", command)
            }
            let room = WireLimits.maxFieldsPerEvent - fields.count
            if !self.truncated && self.pairs.count <= room {
                for pair in self.pairs { fields.add(pair.key, pair.value) }
                return
            }
            // Keep the essential pairs, then the others in order, and one place for `truncated`.
            let keep = room - 1
            let essential = self.pairs.filter { AuditRecord.essentialKeys.contains($0.key) }.count
            var others = max(0, keep - essential)
            var kept = 0
            for pair in self.pairs where kept < keep {
                if AuditRecord.essentialKeys.contains(pair.key) {
                    fields.add(pair.key, pair.value)
                    kept += 1
                } else if others > 0 {
                    fields.add(pair.key, pair.value)
                    others -= 1
                    kept += 1
                }
            }
            fields.add("truncated", "true")
        }

        /// `/usr/bin/sudo` → `sudo`.
        static func lastComponent(_ path: String) -> String {
            guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
            let name = path[path.utf8.index(after: slash)...]
            return name.isEmpty ? path : String(name)
        }
    }
}
