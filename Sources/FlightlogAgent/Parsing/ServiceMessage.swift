/// What cron, polkit, xrdp and vsftpd say about who did what, in syslog or (xrdp, vsftpd) in their own log files.
///
/// Fields this file emits (one place to map to Elastic Common Schema later):
///
/// | parser  | field           | value                                                                              |
/// |---------|-----------------|------------------------------------------------------------------------------------|
/// | cron    | `action`        | `cron_command`; crontab: `crontab_replace`, `crontab_delete`, `crontab_edit_begin`, |
/// |         |                 | `crontab_edit_end`, `crontab_list`, `crontab_reload`                               |
/// |         | `user`          | whose job ran, or who changed a crontab                                            |
/// |         | `target_user`   | whose crontab was changed, when that is a user name                                |
/// |         | `command`       | the job's command line                                                             |
/// | polkit  | `action`        | `polkit_auth`, `polkit_agent_register`, `polkit_agent_unregister`                  |
/// |         | `outcome`       | `success` / `failure` of an authentication                                         |
/// |         | `user`          | the requesting process's owner (`owned by unix-user:…`)                            |
/// |         | `target_user`   | whom the operator authenticated as (`… as unix-user:root`)                         |
/// |         | `polkit_action` | the action asked for (`org.freedesktop.systemd1.manage-units`)                     |
/// |         | `command`       | the requesting command line, as polkit writes it in brackets                       |
/// |         | `session_id`    | the `unix-session:` of the operator or of the agent                                |
/// | xrdp    | `action`        | `session_open`, `session_close`, `login`, `connect`                                |
/// |         | `outcome`       | `success` / `failure` of a login                                                   |
/// |         | `user`, `src_ip`, `src_port` | the RDP user and client (IPv4-mapped IPv6 written as IPv4)            |
/// | vsftpd  | `action`        | `connect`, `login`, `upload`, `download`, `mkdir`, `rmdir`, `delete`, `rename`, …  |
/// |         | `outcome`       | `success` (`OK …`) / `failure` (`FAIL …`)                                          |
/// |         | `user`, `src_ip` | the FTP user and client (IPv4-mapped IPv6 written as IPv4)                        |
/// |         | `path`          | the file of an upload, download, …                                                 |
///
/// A value that an attacker chooses (a user name, a path) can contain the text the parser looks for; where that makes
/// a line ambiguous (two `Client "…"`), the parser extracts no address rather than possibly a forged one.
enum ServiceMessage {
    // MARK: - cron

    /// `(USER) CMD (COMMAND)` of cron and `(USER) REPLACE (OWNER)` of crontab; cron's own notes, `(CRON) …` and
    /// `(*system*) …`, name no user. Read on bytes: cron lines are frequent.
    static func cron(_ text: Substring, into fields: inout FieldList) {
        _ = text.utf8.withContiguousStorageIfAvailable { bytes in self.cron(bytes, into: &fields) }
    }

    private static func cron(_ bytes: UnsafeBufferPointer<UInt8>, into fields: inout FieldList) {
        guard CivilTime.byte(bytes, 0) == UInt8(ascii: "("),
            let close = bytes.firstIndex(of: UInt8(ascii: ")")), close > 1
        else { return }
        let user = 1..<close
        guard bytes[1] != UInt8(ascii: "*"), !bytes[user].contains(UInt8(ascii: " ")),
            !UnsafeBufferPointer(rebasing: bytes[user]).elementsEqual("CRON".utf8)
        else { return }
        var verbStart = close + 1
        while CivilTime.byte(bytes, verbStart) == UInt8(ascii: " ") { verbStart += 1 }
        var verbEnd = verbStart
        while verbEnd + 1 < bytes.count,
            !(bytes[verbEnd] == UInt8(ascii: " ") && bytes[verbEnd + 1] == UInt8(ascii: "("))
        {
            verbEnd += 1
        }
        guard verbEnd + 1 < bytes.count else { return }
        var argument = verbEnd + 2..<bytes.count
        if !argument.isEmpty, bytes[argument.upperBound - 1] == UInt8(ascii: ")") { argument = argument.dropLast() }
        let verb = UnsafeBufferPointer(rebasing: bytes[verbStart..<verbEnd])
        let action: String
        switch verb.count {
        case 3 where verb.elementsEqual("CMD".utf8):
            fields.add("action", "cron_command")
            fields.add("user", utf8: bytes, user)
            while !argument.isEmpty, bytes[argument.lowerBound] == UInt8(ascii: " ") { argument = argument.dropFirst() }
            fields.add("command", utf8: bytes, argument)
            return
        case 7 where verb.elementsEqual("REPLACE".utf8): action = "crontab_replace"
        case 6 where verb.elementsEqual("DELETE".utf8): action = "crontab_delete"
        case 10 where verb.elementsEqual("BEGIN EDIT".utf8): action = "crontab_edit_begin"
        case 8 where verb.elementsEqual("END EDIT".utf8): action = "crontab_edit_end"
        case 4 where verb.elementsEqual("LIST".utf8): action = "crontab_list"
        case 6 where verb.elementsEqual("RELOAD".utf8): action = "crontab_reload"
        default: return
        }
        fields.add("action", action)
        fields.add("user", utf8: bytes, user)
        let owner = bytes[argument]
        if !owner.isEmpty, !owner.contains(UInt8(ascii: "/")), !owner.contains(UInt8(ascii: " ")) {
            fields.add("target_user", utf8: bytes, argument)
        }
    }

    // MARK: - polkit

    /// `Operator of SUBJECT successfully authenticated as unix-user:ID to gain KIND authorization for action ACTION for
    /// SUBJECT [COMMAND] (owned by unix-user:OWNER)`, its `FAILED to authenticate` twin, and agents registering.
    static func polkit(_ text: Substring, into fields: inout FieldList) {
        if let rest = text.after("Operator of ") {
            let success = rest.firstRange(of: " successfully authenticated as unix-user:")
            let failure = rest.firstRange(of: " FAILED to authenticate ")
            guard success != nil || failure != nil else { return }
            fields.add("action", "polkit_auth")
            fields.add("outcome", success != nil ? "success" : "failure")
            if let owned = rest.lastRange(of: "(owned by unix-user:") {
                let owner = rest[owned.upperBound...].prefix { $0 != ")" }
                if !owner.isEmpty { fields.add("user", owner) }
            }
            if let success {
                let identity = rest[success.upperBound...].prefix { $0 != " " }
                if !identity.isEmpty { fields.add("target_user", identity) }
            }
            if let action = rest.after(" for action ") {
                let name = action.prefix { $0 != " " }
                if !name.isEmpty { fields.add("polkit_action", name) }
                // … for SUBJECT [COMMAND] (owned by …): the command is everything in the outer brackets.
                if let open = action.firstRange(of: " ["), let end = action.lastRange(of: "] (owned by "),
                    open.upperBound <= end.lowerBound
                {
                    fields.add("command", action[open.upperBound..<end.lowerBound])
                }
            }
            self.session(rest, into: &fields)
        } else if let rest = text.after("Registered Authentication Agent for ") {
            fields.add("action", "polkit_agent_register")
            self.session(rest, into: &fields)
        } else if let rest = text.after("Unregistered Authentication Agent for ") {
            fields.add("action", "polkit_agent_unregister")
            self.session(rest, into: &fields)
        }
    }

    /// `unix-session:ID …` → `session_id` (a ConsoleKit path keeps its last component, `Session2`).
    private static func session(_ text: Substring, into fields: inout FieldList) {
        guard let rest = text.after("unix-session:") else { return }
        var id = rest.prefix { $0 != " " }
        if let slash = id.lastIndex(of: "/") { id = id[id.index(after: slash)...] }
        if !id.isEmpty { fields.add("session_id", id) }
    }

    // MARK: - xrdp

    /// xrdp's and xrdp-sesman's messages, with or without their `[LEVEL]` and old `(pid)(tid)` prefixes.
    static func xrdp(_ message: Substring, into fields: inout FieldList) {
        var text = message
        if text.startsWith("("), let bracket = text.firstCharacterIndex(ascii: UInt8(ascii: "[")),
            text[..<bracket].allSatisfy({ $0 == "(" || $0 == ")" || ($0.isASCII && $0.isNumber) })
        {
            text = text[bracket...]
        }
        if text.startsWith("["), let close = text.firstCharacterIndex(ascii: UInt8(ascii: "]")),
            text.distance(from: text.startIndex, to: close) <= 6
        {
            text = text[text.index(after: close)...].drop { $0 == " " }
        }
        if let rest = text.after("xrdp_wm_log_msg: ") { text = rest }
        if let rest = text.after("++ created session (access granted): username ") {
            // … username USER, ip ADDRESS:PORT - socket: N
            fields.add("action", "session_open")
            fields.add("outcome", "success")
            self.userAndAddress(rest, into: &fields)
        } else if let rest = text.after("++ terminated session:") {
            // ++ terminated session:  username USER, display :10.0, session_pid N, ip ADDRESS:PORT - socket: N
            fields.add("action", "session_close")
            guard let name = rest.drop(while: { $0 == " " }).after("username ") else { return }
            self.userAndAddress(name, into: &fields)
        } else if let rest = text.after("AUTHFAIL: user=") {
            // AUTHFAIL: user=USER ip=ADDRESS time=N — the user comes first and may contain anything, the address is
            // the socket's: the last ` ip=` is the real one.
            fields.add("action", "login")
            fields.add("outcome", "failure")
            guard let ip = rest.lastRange(of: " ip=") else { return }
            if ip.lowerBound > rest.startIndex { fields.add("user", rest[..<ip.lowerBound]) }
            self.address(rest[ip.upperBound...].prefix { $0 != " " }, port: nil, into: &fields)
        } else if let rest = text.after("login successful for user ") {
            // login successful for user USER on display N
            fields.add("action", "login")
            fields.add("outcome", "success")
            let user = rest.lastRange(of: " on display ").map { rest[..<$0.lowerBound] } ?? rest
            if !user.isEmpty { fields.add("user", user) }
        } else if let rest = text.after("login failed for user ") {
            fields.add("action", "login")
            fields.add("outcome", "failure")
            if !rest.isEmpty { fields.add("user", rest) }
        } else if let rest = text.after("connected client: ") {
            let token = rest.prefix { $0 != " " }
            if IPAddress.isValid(IPAddress.unmapped(token)) {
                fields.add("action", "connect")
                self.address(token, port: nil, into: &fields)
            }
        } else if let at = text.firstRange(of: "connection received from ") {
            // Socket 12: AF_INET6 connection received from ::ffff:10.65.66.23 port 63913
            let rest = text[at.upperBound...]
            let token = rest.prefix { $0 != " " }
            let port = rest.after(" port ")?.prefix { $0.isASCII && $0.isNumber }
            fields.add("action", "connect")
            self.address(token, port: port, into: &fields)
        } else if let rest = text.after("lib_mod_log_peer: ") {
            // lib_mod_log_peer: xrdp_pid=N connected to X11rdp_pid=N … client_ip=ADDRESS client_port=PORT
            guard let ip = rest.after(" client_ip=") else { return }
            let port = rest.after(" client_port=")?.prefix { $0.isASCII && $0.isNumber }
            self.address(ip.prefix { $0 != " " }, port: port, into: &fields)
        }
    }

    /// `USER, …, ip ADDRESS:PORT - socket: N`: the address is the last `, ip `, the user what precedes the first `, `
    /// (xrdp writes the user first and the address last).
    private static func userAndAddress(_ text: Substring, into fields: inout FieldList) {
        guard let ip = text.lastRange(of: ", ip ") else { return }
        let before = text[..<ip.lowerBound]
        let user = before.firstRange(of: ", ").map { before[..<$0.lowerBound] } ?? before
        if !user.isEmpty { fields.add("user", user) }
        let token = text[ip.upperBound...].prefix { $0 != " " }
        self.addressWithPort(token, into: &fields)
    }

    /// `192.0.2.1:PORT`, `::ffff:192.0.2.1:PORT` or `[2001:db8::1]:PORT`; a bare IPv6 address followed by a port
    /// cannot be told from a longer address, so it gives nothing.
    static func addressWithPort(_ token: Substring, into fields: inout FieldList) {
        if token.startsWith("["), let close = token.firstCharacterIndex(ascii: UInt8(ascii: "]")) {
            let ip = token[token.index(after: token.startIndex)..<close]
            let port = token[close...].after("]:")
            self.address(ip, port: port, into: &fields)
            return
        }
        let unmapped = IPAddress.unmapped(token.lastIndex(of: ":").map { token[..<$0] } ?? token)
        guard !unmapped.contains(":"), let colon = token.lastIndex(of: ":") else {
            if !token.contains(":") { self.address(token, port: nil, into: &fields) }
            return
        }
        self.address(unmapped, port: token[token.index(after: colon)...], into: &fields)
    }

    /// Adds a valid address (IPv4-mapped written as IPv4) and a numeric port.
    static func address(_ token: Substring, port: Substring?, into fields: inout FieldList) {
        let ip = IPAddress.unmapped(token)
        guard IPAddress.isValid(ip) else { return }
        fields.add("src_ip", ip)
        if let port, !port.isEmpty, port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }) {
            fields.add("src_port", port)
        }
    }

    // MARK: - vsftpd

    /// `[USER] OK LOGIN: Client "ADDRESS"`, `[USER] FAIL LOGIN: Client "ADDRESS"`, `CONNECT: Client "ADDRESS"`,
    /// `[USER] OK UPLOAD: Client "ADDRESS", "PATH", N bytes, …` (after vsftpd's own `[pid N] ` when it writes its
    /// file; syslog puts the pid in the tag).
    static func vsftpd(_ text: Substring, into fields: inout FieldList) {
        guard let client = text.firstRange(of: ": Client \"") else { return }
        // The user and a path are the client's words: a second `: Client "` makes the line ambiguous.
        guard text[client.upperBound...].firstRange(of: ": Client \"") == nil else { return }
        let head = text[..<client.lowerBound]
        var verb = head
        var user: Substring?
        if head.startsWith("["), let close = head.lastRange(of: "] ") {
            user = head[head.index(after: head.startIndex)..<close.lowerBound]
            verb = head[close.upperBound...]
        }
        let outcome: String?
        if let rest = verb.after("OK ") {
            outcome = "success"
            verb = rest
        } else if let rest = verb.after("FAIL ") {
            outcome = "failure"
            verb = rest
        } else {
            outcome = nil
        }
        guard !verb.isEmpty, verb.allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == " ") }) else { return }
        let rest = text[client.upperBound...]
        guard let endQuote = rest.firstCharacterIndex(ascii: UInt8(ascii: "\"")) else { return }
        fields.add("action", verb.lowercased())
        if let outcome { fields.add("outcome", outcome) }
        if let user, !user.isEmpty { fields.add("user", user) }
        self.address(rest[..<endQuote], port: nil, into: &fields)
        if verb != "LOGIN", let path = rest[endQuote...].after("\", \"") {
            if let close = path.firstCharacterIndex(ascii: UInt8(ascii: "\"")), close > path.startIndex {
                fields.add("path", path[..<close])
            }
        }
    }
}
