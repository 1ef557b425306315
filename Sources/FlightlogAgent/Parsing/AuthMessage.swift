/// Who did what in the auth.log messages of sshd, sudo, su, login, passwd, systemd-logind, unix_chkpwd, ftpd, klogind and
/// PAM modules, and the dispatch to the other parsers of syslog messages by program name: accounts and groups
/// (`AccountMessage`), cron, polkit, xrdp and vsftpd (`ServiceMessage`), the kernel's firewall lines (`FirewallMessage`).
///
/// Only messages of the programs named in `extract`'s switch (or of the `pam_xxx(service:type): …` shape, or of a
/// legacy `service(pam_xxx)` tag) are looked at; anything unrecognised adds nothing. The forms are those OpenSSH
/// 6.x–9.x, Linux-PAM, sudo and shadow write; `Tests/FlightlogAgentTests/RealLogTests.swift` checks them on public
/// samples.
///
/// Fields this file emits (one place to map to Elastic Common Schema later; the other parsers list theirs):
///
/// | parser (program)        | fields                                                                              |
/// |-------------------------|-------------------------------------------------------------------------------------|
/// | sshd, sshd-session      | `action` (`login`, `logout`, `disconnect`, `reverse_mapping_failed`), `outcome`,    |
/// |                         | `user`, `src_ip`, `src_port`, `src_host`, `auth_method`, `more_failures`            |
/// | any, repeated messages  | `repeat_count` (`message repeated N times: [ … ]`)                                 |
/// | sudo                    | `action`=`sudo`, `outcome`, `user`, `target_user`, `tty`, `command`                  |
/// | su                      | `action`=`su`, `outcome`, `user` (who switched), `target_user` (to whom), `tty`      |
/// | login                   | `action`=`login`, `outcome`, `user`, `tty`                                          |
/// | passwd                  | `action`=`password_change`, `outcome`, `user` (who), `target_user` (whose)          |
/// | systemd-logind, elogind | `action` (`session_open`, `logout`, `session_close`), `user`, `session_id`           |
/// | unix_chkpwd             | `action`=`auth`, `outcome`, `user`                                                  |
/// | ftpd                    | `action` (`connect`, `login`), `outcome`, `user`, `src_ip`                          |
/// | klogind                 | `action`=`login`, `outcome`, `src_ip`                                               |
/// | httpd, apache2, apache  | the fields of Apache's error log (`LineParser+WebLogs.swift`) from the message      |
/// | PAM (any program; also  | `pam_module`, `action` (`session_open`, `session_close`, `su`, `sudo`, `login`,     |
/// | `pam: SERVICE[PID]: …`) | `auth`, `password_change`), `outcome`, `user`, `target_user`, `tty`, `src_ip`,      |
/// |                         | `src_host`                                                                          |
enum AuthMessage {
    /// The programs `extract` dispatches on, for documentation and tests (the switches do not consult it).
    static let programs: Set<String> = [
        "sshd", "sshd-session", "sudo", "su", "login", "passwd", "systemd-logind", "elogind", "unix_chkpwd", "ftpd",
        "klogind", "pam", "useradd", "adduser", "usermod", "userdel", "groupadd", "groupdel", "gpasswd", "chage",
        "chfn", "CRON", "cron", "CROND", "crond", "crontab", "polkitd", "polkitd(authority=local)", "xrdp",
        "xrdp-sesman", "vsftpd", "kernel", "httpd", "apache2", "apache",
    ]

    /// `pamModule`: the module of a legacy `service(pam_module)[pid]:` tag, whose program is the service.
    static func extract(program: String?, pamModule: String? = nil, message: String, into fields: inout FieldList) {
        var text = Substring(message)
        // rsyslog's and syslog-ng's repeat compression: `message repeated N times: [ MESSAGE]`.
        if text.startsWith("message repeated "), let (count, inner) = self.repeated(text) {
            fields.add("repeat_count", count)
            text = inner
        }
        if let pamModule {
            fields.add("pam_module", pamModule)
            self.pamBody(text, service: program ?? "", into: &fields)
            return
        }
        if text.startsWith("pam_") {
            self.pam(text, into: &fields)
            return
        }
        if text.startsWith("(pam_"), let close = text.firstRange(of: ") ") {
            // Linux-PAM before 0.99.2: `(pam_unix) authentication failure; …`, the service being the program.
            fields.add("pam_module", text[text.index(after: text.startIndex)..<close.lowerBound])
            self.pamBody(text[close.upperBound...], service: program ?? "", into: &fields)
            return
        }
        // No tag: a firewall line written without `kernel:` (`host [PREFIX] IN=eth0 OUT= …`).
        guard let program else {
            FirewallMessage.extract(text, into: &fields)
            return
        }
        // A switch on the first byte, then on the name: a line of a program not named here costs one or two string
        // comparisons, not one per name (and no set lookup, hashing every line).
        let handled: Bool
        switch program.utf8.first {
        case UInt8(ascii: "s"): handled = self.programS(program, text, into: &fields)
        case UInt8(ascii: "C"), UInt8(ascii: "c"): handled = self.programC(program, text, into: &fields)
        case UInt8(ascii: "u"), UInt8(ascii: "g"), UInt8(ascii: "a"):
            handled = self.programAccount(program, text, into: &fields)
        case UInt8(ascii: "k"): handled = self.programK(program, text, into: &fields)
        case UInt8(ascii: "p"): handled = self.programP(program, text, into: &fields)
        case UInt8(ascii: "l"):
            handled = program == "login"
            if handled { self.login(text, into: &fields) }
        case UInt8(ascii: "e"):
            handled = program == "elogind"
            if handled { self.logind(text, into: &fields) }
        case UInt8(ascii: "f"):
            handled = program == "ftpd"
            if handled { self.ftpd(text, into: &fields) }
        case UInt8(ascii: "x"):
            handled = program == "xrdp" || program == "xrdp-sesman"
            if handled { ServiceMessage.xrdp(text, into: &fields) }
        case UInt8(ascii: "v"):
            handled = program == "vsftpd"
            // gh-3954 of fail2ban: PAM's failure without its module's prefix.
            if handled, text.startsWith("authentication failure;") {
                self.pamBody(text, service: program, into: &fields)
            } else if handled {
                ServiceMessage.vsftpd(text, into: &fields)
            }
        case UInt8(ascii: "h"):
            // Apache's `ErrorLog syslog`. nginx's lines in syslog are not read: most are access lines, frequent.
            handled = program == "httpd"
            if handled { LineParser.apacheMessage(text, into: &fields) }
        default:
            handled = false
        }
        // A LOG prefix that looks like a tag (`DENY: IN=eth0 OUT= …`, no host name): three bytes to rule it out.
        if !handled, text.startsWith("IN=") { FirewallMessage.extract(text, into: &fields) }
    }

    private static func programS(_ program: String, _ text: Substring, into fields: inout FieldList) -> Bool {
        switch program {
        case "sshd", "sshd-session": self.sshd(text, into: &fields)
        case "sudo": self.sudo(text, into: &fields)
        case "su": self.su(text, into: &fields)
        case "systemd-logind": self.logind(text, into: &fields)
        default: return false
        }
        return true
    }

    private static func programC(_ program: String, _ text: Substring, into fields: inout FieldList) -> Bool {
        switch program {
        case "CRON", "cron", "CROND", "crond", "crontab": ServiceMessage.cron(text, into: &fields)
        case "chage", "chfn": AccountMessage.extract(text, into: &fields)
        default: return false
        }
        return true
    }

    private static func programAccount(_ program: String, _ text: Substring, into fields: inout FieldList) -> Bool {
        switch program {
        case "useradd", "adduser", "usermod", "userdel", "groupadd", "groupdel", "gpasswd":
            AccountMessage.extract(text, into: &fields)
        case "unix_chkpwd": self.chkpwd(text, into: &fields)
        case "apache2", "apache": LineParser.apacheMessage(text, into: &fields)
        default: return false
        }
        return true
    }

    private static func programK(_ program: String, _ text: Substring, into fields: inout FieldList) -> Bool {
        switch program {
        case "kernel":
            // elogind writes through the kernel's log on some systems: `kernel: elogind[1622]: New session c2 of user …`.
            if text.startsWith("elogind["), let tag = text.firstRange(of: "]: ") {
                self.logind(text[tag.upperBound...], into: &fields)
            } else {
                FirewallMessage.extract(text, into: &fields)
            }
        case "klogind":
            // Kerberised rlogin: `Authentication failed from IP (HOST): REASON`.
            if let rest = text.after("Authentication failed from ") {
                fields.add("action", "login")
                fields.add("outcome", "failure")
                self.ipPort(rest, into: &fields)
            }
        default: return false
        }
        return true
    }

    private static func programP(_ program: String, _ text: Substring, into fields: inout FieldList) -> Bool {
        switch program {
        case "passwd": self.passwd(text, into: &fields)
        case "polkitd", "polkitd(authority=local)": ServiceMessage.polkit(text, into: &fields)
        case "pam":
            // `pam: gdm-password[1600]: pam_unix(gdm-password:session): …`: the real tag is inside the message.
            if let tag = text.firstRange(of: ": pam_") {
                self.pam(text[text.index(tag.lowerBound, offsetBy: 2)...], into: &fields)
            }
        default: return false
        }
        return true
    }

    /// `message repeated N times: [ MESSAGE]` → (N, MESSAGE).
    private static func repeated(_ text: Substring) -> (Substring, Substring)? {
        guard let rest = text.after("message repeated "), let times = rest.firstRange(of: " times: [") else {
            return nil
        }
        let count = rest[..<times.lowerBound]
        guard !count.isEmpty, count.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var inner = rest[times.upperBound...].drop { $0 == " " }
        if inner.hasSuffix("]") { inner = inner.dropLast() }
        return (count, inner)
    }

    // MARK: - sshd

    private static func sshd(_ message: Substring, into fields: inout FieldList) {
        var text = message
        // sshd's own level prefixes and the mark of a message before authentication frame the same messages.
        if let rest = text.after("error: ") ?? text.after("fatal: ") { text = rest }
        if let inner = text.removingSuffix(" [preauth]") { text = inner }
        if let rest = text.after("Accepted ") ?? text.after("Failed ") ?? text.after("Postponed ") {
            // Accepted|Failed|Postponed METHOD for [invalid user ]USER from IP port PORT ssh2[: key]
            guard let space = rest.firstCharacterIndex(ascii: UInt8(ascii: " ")) else { return }
            let method = rest[..<space]
            guard var who = rest[space...].after(" for ") else { return }
            if let invalid = who.after("invalid user ") { who = invalid }
            fields.add("action", "login")
            if !text.startsWith("Postponed") {
                fields.add("outcome", text.startsWith("Accepted") ? "success" : "failure")
            }
            fields.add("auth_method", method.firstSplit(ascii: UInt8(ascii: "/")))
            self.userFromIPPort(who, into: &fields)
        } else if let rest = text.after("Invalid user ") {
            fields.add("action", "login")
            fields.add("outcome", "failure")
            self.userFromIPPort(rest, into: &fields)
        } else if let rest = text.after("PAM: "), let forRange = rest.firstRange(of: " for "),
            rest[forRange.upperBound...].lastRange(of: " from ") != nil
        {
            // auth-pam.c: `error: PAM: MESSAGE for [illegal user ]USER from HOST` (the message is PAM's, never " for ").
            fields.add("action", "login")
            fields.add("outcome", "failure")
            let who = rest[forRange.upperBound...]
            self.userFromIPPort(who.after("illegal user ") ?? who, into: &fields)
        } else if let rest = text.after("input_userauth_request: invalid user ") {
            fields.add("action", "login")
            fields.add("outcome", "failure")
            self.addUser(rest, into: &fields)
        } else if let rest = text.after("maximum authentication attempts exceeded for ") {
            fields.add("action", "login")
            fields.add("outcome", "failure")
            self.userFromIPPort(rest.after("invalid user ") ?? rest, into: &fields)
        } else if let rest = text.after("Disconnecting: Too many authentication failures") {
            // OpenSSH < 7.x: `… for USER`; the address is on the connection's other lines.
            fields.add("action", "login")
            fields.add("outcome", "failure")
            if let user = rest.after(" for ") { self.addUser(user, into: &fields) }
        } else if let rest = text.after("Disconnecting ") {
            // `Disconnecting {invalid|authenticating} user USER IP port PORT: REASON`
            let tooMany = rest.firstRange(of: "Too many authentication failures") != nil
            fields.add("action", tooMany ? "login" : "disconnect")
            if tooMany { fields.add("outcome", "failure") }
            if let who = rest.after("invalid user ") ?? rest.after("authenticating user ") {
                self.userIPPort(who, into: &fields)
            } else {
                self.ipPort(rest, into: &fields)
            }
        } else if let rest = text.after("Disconnected from ") {
            if let who = rest.after("user ") {
                fields.add("action", "logout")
                self.userIPPort(who, into: &fields)
            } else if let who = rest.after("invalid user ") ?? rest.after("authenticating user ") {
                fields.add("action", "disconnect")
                self.userIPPort(who, into: &fields)
            } else {
                fields.add("action", "disconnect")
                self.ipPort(rest, into: &fields)
            }
        } else if let rest = text.after("Connection closed by ") ?? text.after("Received disconnect from ")
            ?? text.after("Connection reset by ") ?? text.after("Did not receive identification string from ")
            ?? text.after("Timeout before authentication for ") ?? text.after("Unable to negotiate with ")
            ?? text.after("banner exchange: Connection from ")
        {
            fields.add("action", "disconnect")
            if let who = rest.after("invalid user ") ?? rest.after("authenticating user ") {
                self.userIPPort(who, into: &fields)
            } else {
                self.ipPort(rest, into: &fields)
            }
        } else if text.startsWith("Bad protocol version identification "), let from = text.lastRange(of: " from ") {
            fields.add("action", "disconnect")
            self.ipPort(text[from.upperBound...], into: &fields)
        } else if let rest = text.after("reverse mapping checking getaddrinfo for ") {
            // `… for HOST [IP] failed - POSSIBLE BREAK-IN ATTEMPT!`
            fields.add("action", "reverse_mapping_failed")
            if let open = rest.firstIndex(of: "["), let close = rest[open...].firstIndex(of: "]") {
                let ip = rest[rest.index(after: open)..<close]
                if looksLikeIP(ip) { fields.add("src_ip", ip) }
                fields.add("src_host", rest[..<open].trimmingTrailingSpaces())
            }
        } else if let rest = text.after("Address "), rest.firstRange(of: " maps to ") != nil {
            // `Address IP maps to HOST, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!`
            fields.add("action", "reverse_mapping_failed")
            self.ipPort(rest, into: &fields)
        } else if let rest = text.after("PAM "), let semicolon = rest.firstRange(of: " more authentication failure") {
            // `PAM N more authentication failure[s]; logname= uid=0 euid=0 tty=ssh ruser= rhost=HOST [user=USER]`
            fields.add("action", "login")
            fields.add("outcome", "failure")
            fields.add("more_failures", rest[..<semicolon.lowerBound])
            self.remote(self.keyValues(rest[semicolon.upperBound...]), into: &fields)
        } else if let rest = text.after("User "), let not = rest.firstRange(of: " not allowed because ") {
            // `User USER from IP not allowed because …`
            fields.add("action", "login")
            fields.add("outcome", "failure")
            self.userFromIPPort(rest[..<not.lowerBound], into: &fields)
        } else if let rest = text.after("Connection from ") {
            self.ipPort(rest, into: &fields)
        }
    }

    /// Adds `text` up to its first space as `user`, unless it is empty.
    private static func addUser(_ text: Substring, into fields: inout FieldList) {
        let user = text.prefix { $0 != " " }
        if !user.isEmpty { fields.add("user", user) }
    }

    /// `user=` as the requester and `rhost=` as the source of a PAM key=value list.
    private static func remote(_ pairs: [String: String], into fields: inout FieldList) {
        if let user = pairs["user"], !user.isEmpty { fields.add("user", user) }
        if let host = pairs["rhost"], !host.isEmpty {
            fields.add(looksLikeIP(Substring(host)) ? "src_ip" : "src_host", host)
        }
    }

    /// `USER from IP port PORT …` (the user may itself contain spaces, so the last ` from ` wins).
    private static func userFromIPPort(_ text: Substring, into fields: inout FieldList) {
        guard let range = text.lastRange(of: " from ") else {
            if !text.isEmpty { fields.add("user", text) }
            return
        }
        // `Invalid user  from IP`: a client that sent an empty user name names none.
        if range.lowerBound > text.startIndex { fields.add("user", text[..<range.lowerBound]) }
        self.ipPort(text[range.upperBound...], into: &fields)
    }

    /// `USER IP port PORT …`.
    private static func userIPPort(_ text: Substring, into fields: inout FieldList) {
        guard let range = text.lastRange(of: " port "),
            let space = text[..<range.lowerBound].lastIndex(of: " ")
        else { return }
        fields.add("user", text[..<space])
        self.ipPort(text[text.index(after: space)...], into: &fields)
    }

    /// `IP[ port PORT]…`.
    private static func ipPort(_ text: Substring, into fields: inout FieldList) {
        // On bytes when the text is ASCII (every byte one Character): the same steps as below, without slicing.
        let done: Bool? = text.utf8.withContiguousStorageIfAvailable { bytes in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return false }
            Self.ipPort(ascii: bytes, into: &fields)
            return true
        }
        if done == true { return }
        var ip = text.asciiPrefix(
            bytes: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: ",") },
            characters: { $0 != " " && $0 != "," }
        )
        // OpenSSH before 7.x: `Received disconnect from IP: 11: …`; the colon is not part of the address.
        if let address = ip.removingSuffix(":") { ip = address }
        guard looksLikeIP(ip) else { return }
        fields.add("src_ip", ip)
        if let rest = text[ip.endIndex...].dropping(ascii: UInt8(ascii: ":")).after(" port ") {
            let port = rest.asciiPrefix(
                bytes: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") },
                characters: { $0.isASCII && $0.isNumber }
            )
            if !port.isEmpty { fields.add("src_port", port) }
        }
    }

    /// ``ipPort(_:into:)`` for ASCII text.
    private static func ipPort(ascii bytes: UnsafeBufferPointer<UInt8>, into fields: inout FieldList) {
        var end = 0
        while end < bytes.count, bytes[end] != UInt8(ascii: " "), bytes[end] != UInt8(ascii: ",") { end += 1 }
        if end > 0, bytes[end - 1] == UInt8(ascii: ":") { end -= 1 }
        guard Self.looksLikeIP(UnsafeBufferPointer(rebasing: bytes[0..<end])) else { return }
        fields.add("src_ip", utf8: bytes, 0..<end)
        var index = end
        while index < bytes.count, bytes[index] == UInt8(ascii: ":") { index += 1 }
        // `after(" port ")`: its first occurrence from here.
        let pattern: StaticString = " port "
        let count = pattern.utf8CodeUnitCount
        var start = index
        while start + count <= bytes.count {
            var matched = 0
            while matched < count, bytes[start + matched] == pattern.utf8Start[matched] { matched += 1 }
            if matched == count { break }
            start += 1
        }
        guard start + count <= bytes.count else { return }
        let portStart = start + count
        var portEnd = portStart
        while portEnd < bytes.count, CivilTime.isDigit(bytes[portEnd]) { portEnd += 1 }
        if portEnd > portStart { fields.add("src_port", utf8: bytes, portStart..<portEnd) }
    }

    static func looksLikeIP(_ text: Substring) -> Bool {
        text.utf8.withContiguousStorageIfAvailable(Self.looksLikeIP) ?? Self.looksLikeIP(Array(text.utf8))
    }

    private static func looksLikeIP(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer(Self.looksLikeIP)
    }

    /// Whether the bytes could be an IPv4 (four dotted decimals) or IPv6 (two colons or more) address.
    static func looksLikeIP(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 45 else { return false }
        var dots = 0
        var colons = 0
        var onlyDecimal = true
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            case UInt8(ascii: "."): dots += 1
            case UInt8(ascii: ":"): colons += 1
            case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: "%"):
                onlyDecimal = false
            default: return false
            }
        }
        return (colons == 0 && onlyDecimal && dots == 3) || colons >= 2
    }

    // MARK: - sudo

    /// `USER : [REASON ; ]TTY=… ; PWD=… ; USER=… ; COMMAND=…`; a reason (wrong passwords, not in sudoers)
    /// means the attempt failed.
    private static func sudo(_ text: Substring, into fields: inout FieldList) {
        let trimmed = text.dropping(ascii: UInt8(ascii: " "))
        guard let colon = trimmed.firstRange(of: " : ") else { return }
        let user = trimmed[..<colon.lowerBound]
        let userHasSpace = user.isASCII ? user.utf8.contains(UInt8(ascii: " ")) : user.contains(" ")
        guard !user.isEmpty, !userHasSpace else { return }
        fields.add("action", "sudo")
        fields.add("user", user)
        // A long command goes on in a second line, `USER : (command continued) …`: neither success nor failure.
        if trimmed[colon.upperBound...].startsWith("(command continued)") { return }
        var failed = false
        var rest: Substring? = trimmed[colon.upperBound...]
        while let remaining = rest {
            let part: Substring
            if let separator = remaining.firstRange(of: " ; ") {
                part = remaining[..<separator.lowerBound]
                rest = remaining[separator.upperBound...]
            } else {
                part = remaining
                rest = nil
            }
            guard !part.isEmpty else { continue }
            if let value = part.after("TTY=") {
                fields.add("tty", value)
            } else if let value = part.after("USER=") {
                fields.add("target_user", value)
            } else if let value = part.after("COMMAND=") {
                fields.add("command", value)
            } else if part.startsWith("PWD=") || part.startsWith("ENV=") || part.startsWith("GROUP=")
                || part.startsWith("TSID=")
            {
                continue
            } else if !part.isEmpty {
                failed = true
            }
        }
        fields.add("outcome", failed ? "failure" : "success")
    }

    // MARK: - su

    private static func su(_ text: Substring, into fields: inout FieldList) {
        if let rest = text.after("(to ") {
            // (to TARGET) USER on TTY
            guard let close = rest.firstIndex(of: ")") else { return }
            fields.add("action", "su")
            fields.add("outcome", "success")
            fields.add("target_user", rest[..<close])
            let after = rest[rest.index(after: close)...].drop { $0 == " " }
            if let on = after.firstRange(of: " on ") {
                fields.add("user", after[..<on.lowerBound])
                fields.add("tty", after[on.upperBound...])
            } else if !after.isEmpty {
                fields.add("user", after)
            }
        } else if let rest = text.after("FAILED su for ") ?? text.after("Successful su for ") {
            guard let by = rest.firstRange(of: " by ") else { return }
            fields.add("action", "su")
            fields.add("outcome", text.startsWith("FAILED") ? "failure" : "success")
            fields.add("target_user", rest[..<by.lowerBound])
            fields.add("user", rest[by.upperBound...])
        } else if text.startsWith("+ ") || text.startsWith("- ") {
            // Old shadow su: `+ TTY USER:TARGET`; some builds write `USER-TARGET`, read only when one dash makes it
            // unambiguous (user names may contain dashes).
            let parts = text.dropFirst(2).split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return }
            let pair = parts[1]
            let separator: Substring.Index
            if let colon = pair.firstIndex(of: ":") {
                separator = colon
            } else if let dash = pair.firstIndex(of: "-"), pair.lastIndex(of: "-") == dash {
                separator = dash
            } else {
                return
            }
            let user = pair[..<separator]
            let target = pair[pair.index(after: separator)...]
            guard !user.isEmpty, !target.isEmpty else { return }
            fields.add("action", "su")
            fields.add("outcome", text.startsWith("+") ? "success" : "failure")
            fields.add("tty", parts[0])
            fields.add("user", user)
            fields.add("target_user", target)
        } else if let rest = text.after("FAILED SU (to ") {
            // FAILED SU (to root) mmoorcro on pts/0
            guard let close = rest.firstIndex(of: ")") else { return }
            fields.add("action", "su")
            fields.add("outcome", "failure")
            fields.add("target_user", rest[..<close])
            self.userOnTTY(rest[rest.index(after: close)...].drop { $0 == " " }, into: &fields)
        } else if let rest = text.after("BAD SU ") {
            // BAD SU ger to fwmaster on /dev/ttyp0
            guard let to = rest.firstRange(of: " to ") else { return }
            fields.add("action", "su")
            fields.add("outcome", "failure")
            fields.add("user", rest[..<to.lowerBound])
            let after = rest[to.upperBound...]
            if let on = after.firstRange(of: " on ") {
                fields.add("target_user", after[..<on.lowerBound])
                fields.add("tty", after[on.upperBound...])
            } else {
                fields.add("target_user", after)
            }
        } else if let rest = text.after("failed: ") {
            // failed: ttyq4 changing from ldap to root
            guard let changing = rest.firstRange(of: " changing from "),
                let to = rest[changing.upperBound...].firstRange(of: " to ")
            else { return }
            fields.add("action", "su")
            fields.add("outcome", "failure")
            fields.add("tty", rest[..<changing.lowerBound])
            fields.add("user", rest[changing.upperBound..<to.lowerBound])
            fields.add("target_user", rest[to.upperBound...])
        } else if let rest = text.after("Authentication failed for ") {
            // Authentication failed for root
            guard !rest.isEmpty, !rest.contains(" ") else { return }
            fields.add("action", "su")
            fields.add("outcome", "failure")
            fields.add("target_user", rest)
        } else {
            // BSD su: `dcid to root on /dev/ttyp1`
            let words = text.split(separator: " ")
            guard words.count == 5, words[1] == "to", words[3] == "on" else { return }
            fields.add("action", "su")
            fields.add("outcome", "success")
            fields.add("user", words[0])
            fields.add("target_user", words[2])
            fields.add("tty", words[4])
        }
    }

    /// `USER on TTY` or `USER`.
    private static func userOnTTY(_ text: Substring, into fields: inout FieldList) {
        if let on = text.firstRange(of: " on ") {
            fields.add("user", text[..<on.lowerBound])
            fields.add("tty", text[on.upperBound...])
        } else if !text.isEmpty {
            fields.add("user", text)
        }
    }

    // MARK: - login

    private static func login(_ text: Substring, into fields: inout FieldList) {
        if let rest = text.after("FAILED LOGIN ") {
            fields.add("action", "login")
            fields.add("outcome", "failure")
            if let tty = rest.quoted(after: "on '") { fields.add("tty", tty) }
            if let user = rest.quoted(after: "FOR '") { fields.add("user", user) }
        } else if let rest = text.after("ROOT LOGIN ") {
            fields.add("action", "login")
            fields.add("outcome", "success")
            fields.add("user", "root")
            if let tty = rest.quoted(after: "on '") { fields.add("tty", tty) }
        } else if let rest = text.after("LOGIN ON ") {
            // LOGIN ON tty1 BY mchen
            fields.add("action", "login")
            fields.add("outcome", "success")
            if let by = rest.firstRange(of: " BY ") {
                fields.add("tty", rest[..<by.lowerBound])
                fields.add("user", rest[by.upperBound...].prefix { $0 != " " })
            }
        }
    }

    // MARK: - passwd, logind, unix_chkpwd

    private static func passwd(_ text: Substring, into fields: inout FieldList) {
        // password for 'mchen' changed by 'root'
        guard text.startsWith("password for "), let target = text.quoted(after: "for '") else { return }
        fields.add("action", "password_change")
        fields.add("outcome", "success")
        if let by = text.quoted(after: "by '") {
            fields.add("user", by)
            fields.add("target_user", target)
        } else {
            fields.add("user", target)
        }
    }

    /// `New session 3 of user mchen.`, `Session 3 logged out. Waiting for processes to exit.`, `Removed session 3.`:
    /// the session id ties the three together (and to pam_systemd's `XDG_SESSION_ID`).
    private static func logind(_ text: Substring, into fields: inout FieldList) {
        if let rest = text.after("New session "), let of = rest.firstRange(of: " of user ") {
            fields.add("action", "session_open")
            let user = rest[of.upperBound...]
            fields.add("user", user.hasSuffix(".") ? user.dropLast() : user)
            self.sessionID(rest[..<of.lowerBound], into: &fields)
        } else if let rest = text.after("Removed session ") {
            fields.add("action", "session_close")
            self.sessionID(rest.hasSuffix(".") ? rest.dropLast() : rest, into: &fields)
        } else if let rest = text.after("Session "), let out = rest.firstRange(of: " logged out") {
            fields.add("action", "logout")
            self.sessionID(rest[..<out.lowerBound], into: &fields)
        }
    }

    /// A logind session id: `3`, `c2` (a greeter's), no spaces.
    private static func sessionID(_ text: Substring, into fields: inout FieldList) {
        guard !text.isEmpty, text.count <= 32, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            return
        }
        fields.add("session_id", text)
    }

    private static func chkpwd(_ text: Substring, into fields: inout FieldList) {
        // password check failed for user (mchen)
        guard let rest = text.after("password check failed for user (") else { return }
        fields.add("action", "auth")
        fields.add("outcome", "failure")
        fields.add("user", rest.prefix { $0 != ")" })
    }

    // MARK: - PAM

    /// `pam_MODULE(SERVICE:TYPE): TEXT` — sessions, authentication failures and password changes.
    private static func pam(_ text: Substring, into fields: inout FieldList) {
        guard let open = text.firstCharacterIndex(ascii: UInt8(ascii: "(")),
            let close = text[open...].firstRange(of: "): ")
        else { return }
        let inside = text[text.utf8.index(after: open)..<close.lowerBound]
        fields.add("pam_module", text[..<open])
        let service: String
        if inside.isASCII {
            // The first piece between colons that is not empty, as `split(separator: ":")` gives it.
            let piece = inside.dropping(ascii: UInt8(ascii: ":"))
            service = String(piece[..<(piece.utf8.firstIndex(of: UInt8(ascii: ":")) ?? piece.endIndex)])
        } else {
            service = inside.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        }
        self.pamBody(text[close.upperBound...], service: service, into: &fields)
    }

    /// What a PAM module says, in either form: after `pam_MODULE(SERVICE:TYPE): ` or after a legacy
    /// `SERVICE(pam_MODULE)[PID]: ` tag.
    private static func pamBody(_ body: Substring, service: String, into fields: inout FieldList) {
        let isSwitch = service == "su" || service == "su-l" || service == "sudo" || service == "sudo-i"
        let switchAction = service.hasPrefix("su-") || service == "su" ? "su" : "sudo"

        if let rest = body.after("session opened for user ") {
            let target = rest.asciiPrefix(bytes: Self.isNotParenOrSpace, characters: { $0 != "(" && $0 != " " })
            let by =
                rest.after(" by ")?.asciiPrefix(bytes: Self.isNotParenOrSpace, characters: { $0 != "(" && $0 != " " })
                ?? ""
            if isSwitch {
                fields.add("action", switchAction)
                fields.add("outcome", "success")
                if !by.isEmpty { fields.add("user", by) }
                fields.add("target_user", target)
            } else {
                fields.add("action", "session_open")
                fields.add("user", target)
            }
        } else if let rest = body.after("session closed for user ") {
            let target = rest.asciiPrefix(bytes: Self.isNotParenOrSpace, characters: { $0 != "(" && $0 != " " })
            fields.add("action", "session_close")
            fields.add(isSwitch ? "target_user" : "user", target)
        } else if let more = body.firstRange(of: " more authentication failure"), more.lowerBound > body.startIndex,
            body[..<more.lowerBound].allSatisfy({ $0.isASCII && $0.isNumber }),
            let semicolon = body[more.upperBound...].firstIndex(of: ";")
        {
            // Under a legacy tag: `sshd(pam_unix)[15794]: 2 more authentication failures; … rhost=HOST  user=USER`.
            fields.add("action", self.action(forService: service))
            fields.add("outcome", "failure")
            fields.add("more_failures", body[..<more.lowerBound])
            self.remote(self.keyValues(body[body.index(after: semicolon)...]), into: &fields)
        } else if let rest = body.after("authentication failure;") {
            let pairs = self.keyValues(rest)
            fields.add("outcome", "failure")
            fields.add("action", self.action(forService: service))
            let user = pairs["user"] ?? ""
            let requester = pairs["ruser"].flatMap { $0.isEmpty ? nil : $0 } ?? pairs["logname"] ?? ""
            if service == "su" || service == "su-l" {
                if !requester.isEmpty { fields.add("user", requester) }
                if !user.isEmpty { fields.add("target_user", user) }
            } else if !user.isEmpty {
                fields.add("user", user)
            } else if !requester.isEmpty {
                fields.add("user", requester)
            }
            if let tty = pairs["tty"], !tty.isEmpty { fields.add("tty", tty) }
            if let host = pairs["rhost"], !host.isEmpty {
                fields.add(looksLikeIP(Substring(host)) ? "src_ip" : "src_host", host)
            }
        } else if let rest = body.after("password changed for ") {
            fields.add("action", "password_change")
            fields.add("outcome", "success")
            fields.add("user", rest.prefix { $0 != " " })
        } else if let rest = body.after("authentication success;") {
            // pam_sss and others: `authentication success; logname= uid=0 euid=0 tty=… ruser= rhost= user=USER`
            let pairs = self.keyValues(rest)
            fields.add("outcome", "success")
            fields.add("action", self.action(forService: service))
            if let user = pairs["user"], !user.isEmpty { fields.add("user", user) }
            if let host = pairs["rhost"], !host.isEmpty {
                fields.add(looksLikeIP(Substring(host)) ? "src_ip" : "src_host", host)
            }
        } else if body.startsWith("requirement \""), let by = body.lastRange(of: "\" not met by user \"") {
            // pam_succeed_if: `requirement "uid >= 1000" not met by user "root"`
            var user = body[by.upperBound...]
            if user.hasSuffix("\"") { user = user.dropLast() }
            if !user.isEmpty { fields.add("user", user) }
        }
    }

    private static func isNotParenOrSpace(_ byte: UInt8) -> Bool {
        byte != UInt8(ascii: "(") && byte != UInt8(ascii: " ")
    }

    // MARK: - ftpd

    /// `connection from IP (HOST) at …` and `ANONYMOUS FTP LOGIN FROM IP, (PASSWORD)` (wu-ftpd, vsftpd's syslog).
    private static func ftpd(_ text: Substring, into fields: inout FieldList) {
        if let rest = text.after("connection from ") {
            fields.add("action", "connect")
            self.ipPort(rest, into: &fields)
        } else if let rest = text.after("ANONYMOUS FTP LOGIN FROM ") {
            fields.add("action", "login")
            fields.add("outcome", "success")
            fields.add("user", "anonymous")
            self.ipPort(rest, into: &fields)
        }
    }

    private static func action(forService service: String) -> String {
        switch service {
        case "sudo", "sudo-i": return "sudo"
        case "su", "su-l": return "su"
        case "passwd", "chpasswd": return "password_change"
        case "sshd", "login", "gdm-password", "lightdm", "sddm", "vsftpd", "xrdp-sesman": return "login"
        default: return "auth"
        }
    }

    /// ` key=value key=value …` as PAM writes it (values never contain spaces; may be empty).
    ///
    /// A key that appears twice is left out: `ruser=` and `user=` are names a remote client chooses, so
    /// `ruser=x rhost=203.0.113.9` inside one of them would otherwise plant an address (or a user) that is not the
    /// one PAM wrote. An ambiguous line gives no value rather than a possibly forged one.
    private static func keyValues(_ text: Substring) -> [String: String] {
        if let result = self.asciiKeyValues(text) { return result }
        var result: [String: String] = [:]
        var repeated: Set<String> = []
        for word in text.split(separator: " ") {
            guard let equals = word.firstIndex(of: "=") else { continue }
            let key = String(word[..<equals])
            if result[key] == nil {
                result[key] = String(word[word.index(after: equals)...])
            } else {
                repeated.insert(key)
            }
        }
        for key in repeated { result[key] = nil }
        return result
    }

    /// ``keyValues(_:)`` on bytes for ASCII text (where every byte is one Character, so splitting on bytes splits
    /// as the Characters do); nil for other text.
    private static func asciiKeyValues(_ text: Substring) -> [String: String]? {
        let found: [String: String]?? = text.utf8.withContiguousStorageIfAvailable { bytes -> [String: String]? in
            var result: [String: String] = [:]
            var repeated: [String] = []
            var index = 0
            while index < bytes.count {
                let wordStart = index
                var equals = -1
                while index < bytes.count, bytes[index] != UInt8(ascii: " ") {
                    if bytes[index] >= 0x80 { return nil }
                    if equals < 0, bytes[index] == UInt8(ascii: "=") { equals = index }
                    index += 1
                }
                let wordEnd = index
                index += 1
                guard equals >= wordStart else { continue }
                let key = String(decoding: UnsafeBufferPointer(rebasing: bytes[wordStart..<equals]), as: UTF8.self)
                if result[key] == nil {
                    result[key] = String(
                        decoding: UnsafeBufferPointer(rebasing: bytes[equals + 1..<wordEnd]),
                        as: UTF8.self
                    )
                } else {
                    repeated.append(key)
                }
            }
            for key in repeated { result[key] = nil }
            return result
        }
        return found ?? nil
    }
}

extension Substring {
    /// Without the spaces at its end.
    func trimmingTrailingSpaces() -> Substring {
        var result = self
        while result.hasSuffix(" ") { result = result.dropLast() }
        return result
    }

    /// The first occurrence of `needle` (ASCII), compared byte by byte: both Foundation's `range(of:)` and the
    /// generic collection search are far too slow for the agent's line rate.
    func firstRange(of needle: String) -> Range<Index>? {
        self.byteRange(of: needle, last: false)
    }

    /// The last occurrence of `needle` (ASCII).
    func lastRange(of needle: String) -> Range<Index>? {
        self.byteRange(of: needle, last: true)
    }

    private func byteRange(of needle: String, last: Bool) -> Range<Index>? {
        var needle = needle
        let found: Int?? = self.utf8.withContiguousStorageIfAvailable { haystack -> Int? in
            needle.withUTF8 { pattern -> Int? in
                guard !pattern.isEmpty, pattern.count <= haystack.count else { return nil }
                let first = pattern[0]
                let lastStart = haystack.count - pattern.count
                @inline(__always) func matches(at candidate: Int) -> Bool {
                    var matched = 1
                    while matched < pattern.count && haystack[candidate + matched] == pattern[matched] { matched += 1 }
                    return matched == pattern.count
                }
                // One loop per direction: the scan runs over most of a message, once per searched phrase.
                if last {
                    var candidate = lastStart
                    while candidate >= 0 {
                        if haystack[candidate] == first, matches(at: candidate) { return candidate }
                        candidate -= 1
                    }
                } else {
                    var candidate = 0
                    while candidate <= lastStart {
                        if haystack[candidate] == first, matches(at: candidate) { return candidate }
                        candidate += 1
                    }
                }
                return nil
            }
        }
        let offset: Int?
        if let found {
            offset = found
        } else {
            // Not contiguous (a bridged string): fall back to the generic search.
            offset =
                last
                ? nil
                : self.utf8.firstRange(of: needle.utf8).map {
                    self.utf8.distance(from: self.startIndex, to: $0.lowerBound)
                }
        }
        guard let offset else { return nil }
        let lower = self.utf8.index(self.startIndex, offsetBy: offset)
        return lower..<self.utf8.index(lower, offsetBy: needle.utf8.count)
    }

    /// Whether the text starts with the ASCII `prefix`, compared byte by byte.
    func startsWith(_ prefix: String) -> Bool {
        // The first byte rules out nearly every prefix of the parsers' if-chains without the byte loop.
        if let first = prefix.utf8.first, first != self.utf8.first { return false }
        var prefix = prefix
        let result: Bool? = self.utf8.withContiguousStorageIfAvailable { text in
            prefix.withUTF8 { pattern in
                guard pattern.count <= text.count else { return false }
                for index in 0..<pattern.count where text[index] != pattern[index] { return false }
                return true
            }
        }
        return result ?? self.utf8.starts(with: prefix.utf8)
    }

    // MARK: Character operations on bytes
    //
    // In text that is ASCII around the place looked at, every byte is one Character (the one ASCII pair that forms
    // a single Character, "\r\n", cannot occur in a line and does not matter to the predicates used here). These
    // helpers work on bytes there, which is many times faster than walking Characters, and fall back to the
    // Character operation they replace as soon as a non-ASCII byte could join a Character with its neighbour.

    /// `prefix(while: characters)`, where `bytes` says the same as `characters` for every ASCII character.
    func asciiPrefix(bytes: (UInt8) -> Bool, characters: (Character) -> Bool) -> Substring {
        let end: Int?? = self.utf8.withContiguousStorageIfAvailable { text -> Int? in
            var index = 0
            while index < text.count, text[index] < 0x80, bytes(text[index]) { index += 1 }
            guard index == text.count || (text[index] < 0x80 && (index + 1 == text.count || text[index + 1] < 0x80))
            else { return nil }
            return index
        }
        if let end = end ?? nil {
            return self[..<self.utf8.index(self.startIndex, offsetBy: end)]
        }
        return self.prefix(while: characters)
    }

    /// `hasSuffix(suffix) ? dropLast(suffix.count) : nil` for an ASCII `suffix` without a line feed. On bytes when the
    /// suffix's bytes and the byte before them are ASCII (then each is one Character and none joins its neighbour);
    /// otherwise the Character comparison decides.
    func removingSuffix(_ suffix: String) -> Substring? {
        var suffix = suffix
        let length: Int?? = self.utf8.withContiguousStorageIfAvailable { text -> Int? in
            suffix.withUTF8 { pattern -> Int? in
                guard pattern.count <= text.count else { return nil }
                let start = text.count - pattern.count
                if start > 0, text[start - 1] >= 0x80 { return -1 }
                var matches = true
                for offset in 0..<pattern.count {
                    let byte = text[start + offset]
                    if byte >= 0x80 { return -1 }
                    if byte != pattern[offset] { matches = false }
                }
                return matches ? pattern.count : nil
            }
        }
        switch length {
        case .some(.some(let count)) where count >= 0:
            return self[..<self.utf8.index(self.endIndex, offsetBy: -count)]
        case .some(.none):
            return nil
        default:
            return self.hasSuffix(suffix) ? self.dropLast(suffix.count) : nil
        }
    }

    /// Whether every byte is ASCII (then every byte is one Character, the text holding no line feed).
    var isASCII: Bool {
        self.utf8.withContiguousStorageIfAvailable { bytes in bytes.allSatisfy { $0 < 0x80 } }
            ?? self.utf8.allSatisfy { $0 < 0x80 }
    }

    /// `drop(while: { $0 == Character(byte) })` for an ASCII byte that is not a control character.
    func dropping(ascii byte: UInt8) -> Substring {
        let character = Character(Unicode.Scalar(byte))
        return self[self.asciiPrefix(bytes: { $0 == byte }, characters: { $0 == character }).endIndex...]
    }

    /// `firstIndex(of: Character(byte))` for an ASCII byte that is not a control character.
    func firstCharacterIndex(ascii byte: UInt8) -> Index? {
        // The byte offset, -1 when absent, nil when non-ASCII text comes first.
        let found: Int?? = self.utf8.withContiguousStorageIfAvailable { text -> Int? in
            var index = 0
            while index < text.count {
                let current = text[index]
                // Inside non-ASCII text Characters can span several scalars: the Character search decides.
                if current >= 0x80 { return nil }
                if current == byte { return index + 1 == text.count || text[index + 1] < 0x80 ? index : nil }
                index += 1
            }
            return -1
        }
        if let offset = found ?? nil {
            return offset < 0 ? nil : self.utf8.index(self.startIndex, offsetBy: offset)
        }
        return self.firstIndex(of: Character(Unicode.Scalar(byte)))
    }

    /// `split(separator: Character(byte), maxSplits: 1).first ?? self` for an ASCII byte that is not a control
    /// character.
    func firstSplit(ascii byte: UInt8) -> Substring {
        if self.utf8.first != byte {
            // The first piece is not empty: it ends at the first separator, or it is everything.
            guard let index = self.firstCharacterIndex(ascii: byte) else { return self }
            return self[..<index]
        }
        return self.split(separator: Character(Unicode.Scalar(byte)), maxSplits: 1).first ?? self
    }

    /// The text after `prefix`, if this starts with it; for a prefix starting with a space, after its first
    /// occurrence anywhere.
    func after(_ prefix: String) -> Substring? {
        if let first = prefix.utf8.first, first != UInt8(ascii: " "), first != self.utf8.first { return nil }
        if self.startsWith(prefix) { return self[self.utf8.index(self.startIndex, offsetBy: prefix.utf8.count)...] }
        if prefix.utf8.first == UInt8(ascii: " "), let range = self.firstRange(of: prefix) {
            return self[range.upperBound...]
        }
        return nil
    }

    /// The text between `opening` (which ends with a quote) and the next `'`.
    func quoted(after opening: String) -> Substring? {
        guard let range = self.firstRange(of: opening) else { return nil }
        let rest = self[range.upperBound...]
        guard let end = rest.utf8.firstIndex(of: UInt8(ascii: "'")) else { return nil }
        return rest[..<end]
    }
}

extension String {
    func after(_ prefix: String) -> Substring? {
        Substring(self).after(prefix)
    }
}
