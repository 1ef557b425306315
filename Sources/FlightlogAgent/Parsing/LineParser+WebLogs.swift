// MARK: - Web server logs

/// Access logs in the Common and Combined Log Formats (Apache, nginx), mod_ssl's request log, and the error logs of
/// Apache 2.2/2.4 and nginx.
/// The event time is the line's own: an access log's `[10/Oct/2000:13:55:36 -0700]` is exact, an error log's
/// zone-less time is wall-clock time in the configured zone. Values are kept as the server wrote them (Apache's `\"`
/// and `\xhh` escapes included).
///
/// Fields these grammars emit (one place to map to Elastic Common Schema later):
///
/// | log          | field                     | value                                                               |
/// |--------------|---------------------------|---------------------------------------------------------------------|
/// | access       | `src_ip`                  | the client; of several forwarded-for addresses the first that is    |
/// |              |                           | not internal (loopback, RFC 1918, link- or unique-local), else the  |
/// |              |                           | first, as Filebeat reads them                                        |
/// |              | `src_ip_list`             | the client field as written, when it holds several addresses        |
/// |              | `src_host`                | the client when it is a host name (`HostnameLookups On`)            |
/// |              | `vhost`                   | a virtual host written before the client or the request             |
/// |              | `ident`, `user`           | `%l` and `%u`, not when `-`                                         |
/// |              | `method`, `url`, `http_version` | of a request line `METHOD URL HTTP/x.y` (`http_version` `x.y`)  |
/// |              | `request`                 | the request line as written when it is not of that shape           |
/// |              | `status`, `bytes`         | `bytes` not when `-`                                                |
/// |              | `referrer`, `user_agent`  | Combined Log Format, not when `-`                                   |
/// | error (both) | `severity`                | the level as a syslog keyword (`error` → `err`, `warn` → `warning`) |
/// |              | `message`                 | what follows the header                                             |
/// |              | `src_ip`, `src_port`      | the client (`[client …]`, `, client: …`)                            |
/// |              | `pid`, `tid`              | process and thread                                                  |
/// |              | `action`, `outcome`, `user` | `login`/`authorize`, `failure` and the user of an HTTP           |
/// |              |                           | authentication or authorization failure                            |
/// | Apache error | `module`, `error_code`    | `core`, `AH00124`                                                   |
/// | nginx error  | `vhost`, `method`, `url`, `http_version` | `server:` and `request:` (the file's lines; nginx's    |
/// |              |                           | syslog lines are not read)                                          |
///
/// Where a client-chosen value (a user name, a URL, a referrer) makes a line ambiguous, the parser extracts no address
/// and no user rather than possibly forged ones.
extension LineParser {
    // MARK: Access logs

    /// `CLIENT IDENT USER [dd/Mon/yyyy:hh:mm:ss ±hhmm] "REQUEST" STATUS BYTES ["REFERRER" "USER-AGENT"]…`, CLIENT
    /// possibly preceded by a virtual host or made of several forwarded-for addresses.
    func parseAccessLog(_ bytes: UnsafeBufferPointer<UInt8>, observedNanos: Int64) -> ParsedLine? {
        let limit = min(bytes.count, 1_024)
        var open = 0
        var found: CivilTime.Stamp?
        var index = 1
        while index + 2 < limit {
            if bytes[index] == UInt8(ascii: " "), bytes[index + 1] == UInt8(ascii: "["),
                CivilTime.isDigit(bytes[index + 2])
            {
                var cursor = index + 2
                if let stamp = CivilTime.parseCLF(bytes, &cursor) {
                    if CivilTime.byte(bytes, cursor) == UInt8(ascii: " ") { cursor += 1 }
                    if CivilTime.byte(bytes, cursor) == UInt8(ascii: "]") {
                        open = index
                        found = stamp
                        index = cursor + 1
                        break
                    }
                }
            }
            index += 1
        }
        guard let stamp = found else { return nil }
        var fields = FieldList()
        guard Self.addClientIdentUser(bytes, before: open, into: &fields) else { return nil }

        var cursor = index
        if CivilTime.byte(bytes, cursor) == UInt8(ascii: " ") { cursor += 1 }
        if cursor < bytes.count, bytes[cursor] != UInt8(ascii: "\"") {
            // A virtual host between the time and the request.
            let end = Self.wordEnd(bytes, from: cursor)
            if CivilTime.byte(bytes, end) == UInt8(ascii: " "), CivilTime.byte(bytes, end + 1) == UInt8(ascii: "\"") {
                if !fields.contains("vhost") { fields.add("vhost", utf8: bytes, cursor..<end) }
                cursor = end + 1
            }
        }
        if let request = Self.quoted(bytes, at: cursor) {
            Self.addRequest(bytes, request.value, into: &fields)
            cursor = request.end
            if CivilTime.byte(bytes, cursor) == UInt8(ascii: " ") {
                let statusStart = cursor + 1
                var end = statusStart
                while end < bytes.count, CivilTime.isDigit(bytes[end]) { end += 1 }
                if end - statusStart == 3, CivilTime.byte(bytes, end) == UInt8(ascii: " ") || end == bytes.count {
                    fields.add("status", utf8: bytes, statusStart..<end)
                    let sizeStart = end + 1
                    var sizeEnd = sizeStart
                    while sizeEnd < bytes.count, CivilTime.isDigit(bytes[sizeEnd]) { sizeEnd += 1 }
                    if sizeEnd > sizeStart { fields.add("bytes", utf8: bytes, sizeStart..<sizeEnd) }
                    if sizeEnd == sizeStart, CivilTime.byte(bytes, sizeStart) == UInt8(ascii: "-") { sizeEnd += 1 }
                    cursor = sizeEnd
                    for key in ["referrer", "user_agent"] {
                        guard CivilTime.byte(bytes, cursor) == UInt8(ascii: " "),
                            let value = Self.quoted(bytes, at: cursor + 1)
                        else { break }
                        Self.addUnlessDash(key, bytes, value.value, into: &fields)
                        cursor = value.end
                    }
                }
            }
        }
        return ParsedLine(
            timeNanos: self.nanos(of: stamp, observedNanos: observedNanos),
            encodedFields: fields.encoded,
            format: .accessLog
        )
    }

    /// mod_ssl's request log, `[dd/Mon/yyyy:hh:mm:ss ±hhmm] CLIENT PROTOCOL CIPHER "REQUEST" BYTES`: the
    /// `ssl_request_log` that Apache's stock `ssl.conf` writes with `"%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x \"%r\" %b"`.
    func parseSSLRequestLog(_ bytes: UnsafeBufferPointer<UInt8>, observedNanos: Int64) -> ParsedLine? {
        var index = 1
        guard let stamp = CivilTime.parseCLF(bytes, &index), CivilTime.byte(bytes, index) == UInt8(ascii: "]"),
            CivilTime.byte(bytes, index + 1) == UInt8(ascii: " ")
        else { return nil }
        index += 2
        let client = index..<Self.wordEnd(bytes, from: index)
        guard !client.isEmpty else { return nil }
        index = client.upperBound
        for _ in 0..<2 {
            guard CivilTime.byte(bytes, index) == UInt8(ascii: " ") else { return nil }
            let end = Self.wordEnd(bytes, from: index + 1)
            guard end > index + 1 else { return nil }
            index = end
        }
        guard CivilTime.byte(bytes, index) == UInt8(ascii: " "), let request = Self.quoted(bytes, at: index + 1) else {
            return nil
        }
        var fields = FieldList()
        Self.addClient(bytes, client, into: &fields)
        Self.addRequest(bytes, request.value, into: &fields)
        if CivilTime.byte(bytes, request.end) == UInt8(ascii: " ") {
            var end = request.end + 1
            while end < bytes.count, CivilTime.isDigit(bytes[end]) { end += 1 }
            if end > request.end + 1 { fields.add("bytes", utf8: bytes, request.end + 1..<end) }
        }
        return ParsedLine(
            timeNanos: self.nanos(of: stamp, observedNanos: observedNanos),
            encodedFields: fields.encoded,
            format: .accessLog
        )
    }

    /// The words before the time: CLIENT IDENT USER. The client may be several words (a virtual host, forwarded-for
    /// addresses) and a user name may contain spaces, so the first `-` word after the client is taken as the ident
    /// (which almost every server writes as `-`) and the rest as the user; without such a `-`, only three words (client,
    /// ident, user) can be told apart, and with more the user is left out. False if there are fewer than three words.
    private static func addClientIdentUser(
        _ bytes: UnsafeBufferPointer<UInt8>,
        before end: Int,
        into fields: inout FieldList
    ) -> Bool {
        var words: [Range<Int>] = []
        var index = 0
        while index < end, words.count < 32 {
            let start = index
            while index < end, bytes[index] != UInt8(ascii: " ") { index += 1 }
            if index > start { words.append(start..<index) }
            index += 1
        }
        guard words.count >= 3 else { return false }
        let isDash = { (word: Range<Int>) in word.count == 1 && bytes[word.lowerBound] == UInt8(ascii: "-") }
        if let dash = words.indices.dropFirst().first(where: { isDash(words[$0]) }) {
            Self.addClient(bytes, 0..<words[dash - 1].upperBound, into: &fields)
            if dash + 1 < words.count {
                let user = words[dash + 1].lowerBound..<end
                // A custom format's extra `-` columns are not a user.
                if !bytes[user].allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: " ") }) {
                    fields.add("user", utf8: bytes, user)
                }
            }
        } else {
            let count = words.count
            // The client is a guess here (more than three words, no `-`): no virtual host is split off it.
            Self.addClientWords(Substring(Self.text(bytes, 0..<words[count - 3].upperBound) ?? ""), into: &fields)
            if count == 3 {
                fields.add("ident", utf8: bytes, words[1])
                fields.add("user", utf8: bytes, words[2])
            }
        }
        return true
    }

    /// The client field, where a `-` ident ends it: one address; a virtual host and the client; several forwarded-for
    /// addresses; a host name.
    ///
    /// A first word that is followed by more and does not end in a comma is a virtual host (Apache's `%v %h`, nginx's
    /// `$host $remote_addr`), as Filebeat reads it: a forwarded-for list separates its addresses with commas, and its
    /// quoted form starts with a quote.
    private static func addClient(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        into fields: inout FieldList
    ) {
        guard let text = Self.text(bytes, range) else { return }
        if text.first != "\"", let space = text.firstIndex(of: " "), space > text.startIndex,
            text[text.index(before: space)] != ","
        {
            let client = text[text.index(after: space)...].drop { $0 == " " }
            if !client.isEmpty {
                Self.addClientWords(Substring(client), into: &fields)
                fields.add("vhost", String(text[..<space]))
                return
            }
        }
        Self.addClientWords(Substring(text), into: &fields)
    }

    /// One address (after a virtual host when the second of two words), several forwarded-for addresses, or a host name.
    private static func addClientWords(_ text: Substring, into fields: inout FieldList) {
        let words: [Substring]
        if !text.utf8.contains(where: { $0 >= 0x80 }) {
            // ASCII: every byte is one Character, so the bytes split as the Characters do.
            words = text.utf8.split { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") }
                .map { text[$0.startIndex..<$0.endIndex] }
        } else {
            words = text.split { $0 == " " || $0 == "," || $0 == "\"" }
        }
        guard !words.isEmpty, words.count <= 16 else { return }
        let addresses = words.map(IPAddress.unmapped).filter(IPAddress.isValid)
        switch addresses.count {
        case 0:
            if words.count == 1, words[0] != "-" { fields.add("src_host", words[0]) }
        case 1:
            fields.add("src_ip", addresses[0])
            if words.count == 2, IPAddress.unmapped(words[1]) == addresses[0] { fields.add("vhost", words[0]) }
        default:
            fields.add("src_ip", addresses.first { !IPAddress.isInternal($0) } ?? addresses[0])
            fields.add("src_ip_list", String(text))
        }
    }

    /// `METHOD URL HTTP/x.y` as `method`, `url`, `http_version`; anything else (`-` aside) as `request`.
    private static func addRequest(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        into fields: inout FieldList
    ) {
        guard !range.isEmpty, !(range.count == 1 && bytes[range.lowerBound] == UInt8(ascii: "-")) else { return }
        let line = UnsafeBufferPointer(rebasing: bytes[range])
        if let firstSpace = line.firstIndex(of: UInt8(ascii: " ")),
            let lastSpace = line.lastIndex(of: UInt8(ascii: " ")), lastSpace > firstSpace + 1,
            line[0..<firstSpace].allSatisfy({ $0 &- UInt8(ascii: "A") < 26 || $0 == UInt8(ascii: "-") }),
            lastSpace + 6 <= line.count, Array(line[(lastSpace + 1)..<(lastSpace + 6)]) == Array("HTTP/".utf8)
        {
            let base = range.lowerBound
            fields.add("method", utf8: bytes, base..<base + firstSpace)
            fields.add("url", utf8: bytes, base + firstSpace + 1..<base + lastSpace)
            fields.add("http_version", utf8: bytes, base + lastSpace + 6..<range.upperBound)
        } else {
            fields.add("request", utf8: bytes, range)
        }
    }

    /// The text between the double quote at `start` and its closing quote (a backslash escapes the next byte).
    private static func quoted(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> (value: Range<Int>, end: Int)? {
        guard CivilTime.byte(bytes, start) == UInt8(ascii: "\"") else { return nil }
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return (start + 1..<index, index + 1)
            default: index += 1
            }
        }
        return nil
    }

    private static func addUnlessDash(
        _ key: String,
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        into fields: inout FieldList
    ) {
        guard !range.isEmpty, !(range.count == 1 && bytes[range.lowerBound] == UInt8(ascii: "-")) else { return }
        fields.add(key, utf8: bytes, range)
    }

    // MARK: Apache error logs

    /// `[Www Mmm dd hh:mm:ss[.ffffff] yyyy] [[module]:level] [pid N[:tid M]] [client ADDRESS[:PORT]] MESSAGE`
    /// (Apache 2.4; 2.2 writes `[level]`, no pid, and the client without a port).
    func parseApacheError(_ bytes: UnsafeBufferPointer<UInt8>, observedNanos: Int64) -> ParsedLine? {
        var index = 1
        guard let stamp = CivilTime.parseCTime(bytes, &index), CivilTime.byte(bytes, index) == UInt8(ascii: "]"),
            CivilTime.byte(bytes, index + 1) == UInt8(ascii: " ")
        else { return nil }
        var fields = FieldList()
        guard Self.apacheErrorBody(bytes, from: index + 2, addingMessage: true, into: &fields) else { return nil }
        return ParsedLine(
            timeNanos: self.nanos(of: stamp, observedNanos: observedNanos),
            encodedFields: fields.encoded,
            format: .webErrorLog
        )
    }

    /// An Apache error log line after its time, `[[module]:level] [pid N[:tid M]] [client ADDRESS[:PORT]] MESSAGE`, as
    /// the file has it or as Apache sends it to syslog (`ErrorLog syslog`). False if `bytes` do not start with a level;
    /// `severity` and `pid` are not added when the syslog header already gave them.
    static func apacheErrorBody(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: Int,
        addingMessage: Bool,
        into fields: inout FieldList
    ) -> Bool {
        guard CivilTime.byte(bytes, start) == UInt8(ascii: "[") else { return false }
        let levelStart = start + 1
        var close = levelStart
        while close < min(bytes.count, levelStart + 64), bytes[close] != UInt8(ascii: "]"),
            bytes[close] != UInt8(ascii: " ")
        {
            close += 1
        }
        guard CivilTime.byte(bytes, close) == UInt8(ascii: "]"), let tag = Self.text(bytes, levelStart..<close) else {
            return false
        }
        let module = tag.lastIndex(of: ":").map { tag[..<$0] }
        let level = tag.lastIndex(of: ":").map { tag[tag.index(after: $0)...] } ?? Substring(tag)
        guard let severity = Self.webSeverity(level) else { return false }
        fields.addIfAbsent("severity", severity)
        if let module, !module.isEmpty { fields.add("module", module) }
        // 2.4's header (a module, or a pid) writes the client with its port; 2.2's without.
        var isModern = module != nil
        var index = close + 1
        var sawPID = false
        var sawClient = false
        while CivilTime.byte(bytes, index) == UInt8(ascii: " "), CivilTime.byte(bytes, index + 1) == UInt8(ascii: "[") {
            let inner = index + 2
            if !sawPID, Self.hasPrefix(bytes, at: inner, "pid ") {
                var end = inner + 4
                while CivilTime.isDigit(CivilTime.byte(bytes, end)) { end += 1 }
                guard end > inner + 4 else { break }
                if let pid = Self.text(bytes, inner + 4..<end) { fields.addIfAbsent("pid", pid) }
                if Self.hasPrefix(bytes, at: end, ":tid ") {
                    let tidStart = end + 5
                    end = tidStart
                    while CivilTime.isDigit(CivilTime.byte(bytes, end)) { end += 1 }
                    if end > tidStart { fields.add("tid", utf8: bytes, tidStart..<end) }
                }
                guard CivilTime.byte(bytes, end) == UInt8(ascii: "]") else { break }
                sawPID = true
                isModern = true
                index = end + 1
            } else if !sawClient,
                Self.hasPrefix(bytes, at: inner, "client ") || Self.hasPrefix(bytes, at: inner, "remote ")
            {
                let addressStart = inner + 7
                var end = addressStart
                if CivilTime.byte(bytes, end) == UInt8(ascii: "[") {
                    // [client [2001:db8::1]:51548]
                    while end < bytes.count, bytes[end] != UInt8(ascii: "]") { end += 1 }
                    end += 1
                }
                while end < bytes.count, bytes[end] != UInt8(ascii: "]"), bytes[end] != UInt8(ascii: " ") { end += 1 }
                guard CivilTime.byte(bytes, end) == UInt8(ascii: "]"), let token = Self.text(bytes, addressStart..<end)
                else { break }
                Self.addApacheClient(Substring(token), withPort: isModern, into: &fields)
                sawClient = true
                index = end + 1
            } else {
                break
            }
        }
        if CivilTime.byte(bytes, index) == UInt8(ascii: " ") { index += 1 }
        if index < bytes.count, let message = Self.text(bytes, index..<bytes.count) {
            if addingMessage { fields.add("message", message) }
            var text = Substring(message)
            if text.startsWith("AH"), text.count > 8,
                text.dropFirst(2).prefix(5).allSatisfy({ $0.isASCII && $0.isNumber }),
                text.dropFirst(7).startsWith(": ")
            {
                fields.add("error_code", text.prefix(7))
                text = text.dropFirst(9)
            }
            if let rest = text.after("Digest: ") { text = rest }
            Self.apacheAuthFailure(text, into: &fields)
        }
        return true
    }

    /// `1.2.3.4:5678`, `[2001:db8::1]:5678`, `::ffff:1.2.3.4:5678` (2.4; 2.2 with mod_security too) or `1.2.3.4`,
    /// `2001:db8::1` (2.2). A bare IPv6 address in a 2.4 line may end in its port: ambiguous, so nothing.
    private static func addApacheClient(_ token: Substring, withPort: Bool, into fields: inout FieldList) {
        if !withPort, IPAddress.isValid(IPAddress.unmapped(token)) {
            ServiceMessage.address(token, port: nil, into: &fields)
        } else {
            ServiceMessage.addressWithPort(token, into: &fields)
        }
    }

    /// The message of an Apache syslog line (`ErrorLog syslog`, programs `httpd`, `apache2`): the error log's fields
    /// without its time.
    static func apacheMessage(_ text: Substring, into fields: inout FieldList) {
        var local = fields
        let done: Bool? = text.utf8.withContiguousStorageIfAvailable { bytes in
            Self.apacheErrorBody(bytes, from: 0, addingMessage: false, into: &local)
        }
        if done == true { fields = local }
    }

    /// mod_auth_basic, mod_auth_digest and mod_authz_* failures (Apache 2.2 and 2.4 wordings): the user is the
    /// client's word, so the phrase after it must occur once.
    private static func apacheAuthFailure(_ text: Substring, into fields: inout FieldList) {
        func add(_ action: String, _ user: Substring) {
            fields.add("action", action)
            fields.add("outcome", "failure")
            if !user.isEmpty { fields.add("user", user) }
        }
        if let rest = text.after("user `") {
            // Digest: user `NAME' in realm `REALM' not found: URI
            if let end = rest.uniqueRange(of: "' in realm `") { add("login", rest[..<end.lowerBound]) }
        } else if let rest = text.after("user ") {
            for (phrase, action) in [
                (": authentication failure for \"", "login"), (" not found: ", "login"),
                (": password mismatch: ", "login"),
                (": authorization failure for \"", "authorize"),
            ] {
                guard let end = rest.firstRange(of: phrase) else { continue }
                guard rest.uniqueRange(of: phrase) != nil else { return }
                add(action, rest[..<end.lowerBound])
                return
            }
            // 2.2: `user NAME not found` at the end of the message.
            if rest.hasSuffix(" not found"), rest.uniqueRange(of: " not found") != nil {
                add("login", rest.dropLast(" not found".count))
            }
        } else if let rest = text.after("Authorization of user ") {
            // Authorization of user NAME to access URI failed, reason: …
            if let end = rest.uniqueRange(of: " to access ") { add("authorize", rest[..<end.lowerBound]) }
        }
    }

    // MARK: nginx error logs

    /// `yyyy/mm/dd hh:mm:ss [level] PID#TID: [*CONNECTION ]MESSAGE[, client: ADDRESS, server: NAME, request: "…", …]`.
    func parseNginxError(_ bytes: UnsafeBufferPointer<UInt8>, observedNanos: Int64) -> ParsedLine? {
        var index = 0
        guard
            let stamp = CivilTime.parseCompact(bytes, &index, separator: UInt8(ascii: "/"), between: UInt8(ascii: " ")),
            CivilTime.byte(bytes, index) == UInt8(ascii: " "), CivilTime.byte(bytes, index + 1) == UInt8(ascii: "[")
        else { return nil }
        let levelStart = index + 2
        var close = levelStart
        while close < min(bytes.count, levelStart + 8), bytes[close] != UInt8(ascii: "]") { close += 1 }
        guard CivilTime.byte(bytes, close) == UInt8(ascii: "]"), let level = Self.text(bytes, levelStart..<close),
            let severity = Self.webSeverity(Substring(level)), CivilTime.byte(bytes, close + 1) == UInt8(ascii: " ")
        else { return nil }
        index = close + 2
        let pidStart = index
        while CivilTime.isDigit(CivilTime.byte(bytes, index)) { index += 1 }
        guard index > pidStart, CivilTime.byte(bytes, index) == UInt8(ascii: "#") else { return nil }
        let pidEnd = index
        index += 1
        let tidStart = index
        while CivilTime.isDigit(CivilTime.byte(bytes, index)) { index += 1 }
        guard index > tidStart, CivilTime.byte(bytes, index) == UInt8(ascii: ":") else { return nil }
        var fields = FieldList()
        fields.add("severity", severity)
        fields.add("pid", utf8: bytes, pidStart..<pidEnd)
        fields.add("tid", utf8: bytes, tidStart..<index)
        index += 1
        if CivilTime.byte(bytes, index) == UInt8(ascii: " ") { index += 1 }
        if CivilTime.byte(bytes, index) == UInt8(ascii: "*") {
            var end = index + 1
            while CivilTime.isDigit(CivilTime.byte(bytes, end)) { end += 1 }
            if CivilTime.byte(bytes, end) == UInt8(ascii: " ") { index = end + 1 }
        }
        if index < bytes.count, let message = Self.text(bytes, index..<bytes.count) {
            fields.add("message", message)
            Self.nginxContext(Substring(message), into: &fields)
        }
        return ParsedLine(
            timeNanos: self.nanos(of: stamp, observedNanos: observedNanos),
            encodedFields: fields.encoded,
            format: .webErrorLog
        )
    }

    /// `…, client: ADDRESS, server: NAME, request: "METHOD URL HTTP/x.y", …` and the user of an auth_basic failure. The
    /// user, the request and the referrer are the client's words and may repeat `, client: `: then nothing is taken.
    private static func nginxContext(_ text: Substring, into fields: inout FieldList) {
        guard let client = text.uniqueRange(of: ", client: ") else { return }
        let rest = text[client.upperBound...]
        let address = rest.asciiPrefix(
            bytes: { $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: " ") },
            characters: { $0 != "," && $0 != " " }
        )
        ServiceMessage.address(address, port: nil, into: &fields)
        if let server = rest.firstRange(of: ", server: ") {
            let name = rest[server.upperBound...].asciiPrefix(
                bytes: { $0 != UInt8(ascii: ",") },
                characters: { $0 != "," }
            )
            if !name.isEmpty { fields.add("vhost", name) }
        }
        if let start = rest.firstRange(of: ", request: \""),
            let end = rest[start.upperBound...].firstCharacterIndex(ascii: UInt8(ascii: "\""))
        {
            let request = rest[start.upperBound...]
            let line = request[..<end]
            if line.isASCII {
                // Every byte one Character: the same words, split on bytes.
                let words = line.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
                    .map { line[$0.startIndex..<$0.endIndex] }
                if words.count == 3, words[2].startsWith("HTTP/"),
                    words[0].utf8.allSatisfy({ $0 &- UInt8(ascii: "A") < 26 })
                {
                    fields.add("method", words[0])
                    fields.add("url", words[1])
                    fields.add("http_version", words[2][words[2].utf8.index(words[2].startIndex, offsetBy: 5)...])
                }
            } else {
                let words = line.split(separator: " ", omittingEmptySubsequences: false)
                if words.count == 3, words[2].startsWith("HTTP/"),
                    words[0].allSatisfy({ $0.isASCII && $0.isUppercase })
                {
                    fields.add("method", words[0])
                    fields.add("url", words[1])
                    fields.add("http_version", words[2].dropFirst(5))
                }
            }
        }
        let head = text[..<client.lowerBound]
        // user "NAME": password mismatch | user "NAME" was not found in "FILE" | PAM: user 'NAME' - not authenticated: …
        var user: Substring?
        if let rest = head.after("user \"") {
            if let end = rest.uniqueRange(of: "\": password mismatch") ?? rest.uniqueRange(of: "\" was not found in \"")
            {
                user = rest[..<end.lowerBound]
            }
        } else if let rest = head.after("PAM: user '"), let end = rest.uniqueRange(of: "' - not authenticated") {
            user = rest[..<end.lowerBound]
        }
        if let user {
            fields.add("action", "login")
            fields.add("outcome", "failure")
            if !user.isEmpty { fields.add("user", user) }
        }
    }

    // MARK: Pieces

    /// Apache's and nginx's level names as syslog severity keywords.
    private static func webSeverity(_ level: Substring) -> String? {
        switch level {
        case "emerg": "emerg"
        case "alert": "alert"
        case "crit": "crit"
        case "error": "err"
        case "warn": "warning"
        case "notice": "notice"
        case "info": "info"
        case "debug", "trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7", "trace8": "debug"
        default: nil
        }
    }

    private static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, _ prefix: StaticString) -> Bool {
        guard start + prefix.utf8CodeUnitCount <= bytes.count else { return false }
        for offset in 0..<prefix.utf8CodeUnitCount where bytes[start + offset] != prefix.utf8Start[offset] {
            return false
        }
        return true
    }
}

extension Substring {
    /// The occurrence of `needle` if there is exactly one.
    func uniqueRange(of needle: String) -> Range<Index>? {
        guard let first = self.firstRange(of: needle), self.lastRange(of: needle) == first else { return nil }
        return first
    }
}
