/// Packets the kernel's netfilter LOG target reported (UFW, firewalld, plain iptables/nftables rules with a
/// `--log-prefix`): `[UFW BLOCK] IN=eth0 OUT= MAC=… SRC=1.2.3.4 DST=5.6.7.8 LEN=… PROTO=TCP SPT=… DPT=22 …`.
///
/// Fields this file emits (one place to map to Elastic Common Schema later):
///
/// | field        | value                                                                                       |
/// |--------------|---------------------------------------------------------------------------------------------|
/// | `src_ip`, `dst_ip`     | `SRC=`, `DST=`                                                                    |
/// | `src_port`, `dst_port` | `SPT=`, `DPT=` (TCP, UDP, SCTP)                                                   |
/// | `protocol`   | `PROTO=` as the kernel writes it (`TCP`, `UDP`, `ICMP`, `ICMPv6`, or a number)               |
/// | `in_iface`, `out_iface` | `IN=`, `OUT=` when not empty                                                     |
/// | `log_prefix` | the rule's prefix (`UFW BLOCK`, `iptables DROP_INPUT:`), without the kernel's uptime stamp  |
/// | `action`     | `block`, `allow` or `audit`: from UFW's tag, or a prefix naming DROP, REJECT, DENY, BLOCK,   |
/// |              | ACCEPT or ALLOW; no action when the prefix says none of them                                |
///
/// An ICMP error quotes the offending packet in brackets (`[SRC=… DST=…]`); those inner values are not the packet's.
enum FirewallMessage {
    /// Adds the packet's fields if `text` has the shape of a netfilter LOG line (`IN=` and `OUT=` near the start, then
    /// `SRC=`); otherwise adds nothing.
    static func extract(_ text: Substring, into fields: inout FieldList) {
        var parsed: [(String, Substring)] = []
        let found: Bool? = text.utf8.withContiguousStorageIfAvailable { bytes in
            self.parse(bytes, text: text, into: &parsed)
        }
        guard found == true else { return }
        for (key, value) in parsed { fields.add(key, value) }
    }

    private static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>,
        text: Substring,
        into parsed: inout [(String, Substring)]
    ) -> Bool {
        // `IN=` within the first bytes (an uptime stamp and a prefix of at most 29 bytes come before it), at the start
        // or after a space, `]` or `)`.
        let limit = min(bytes.count, 96)
        var start = -1
        var index = 0
        while index + 3 <= limit {
            if bytes[index] == UInt8(ascii: "I"), bytes[index + 1] == UInt8(ascii: "N"),
                bytes[index + 2] == UInt8(ascii: "="),
                index == 0 || bytes[index - 1] == UInt8(ascii: " ") || bytes[index - 1] == UInt8(ascii: "]")
                    || bytes[index - 1] == UInt8(ascii: ")")
            {
                start = index
                break
            }
            index += 1
        }
        guard start >= 0 else { return false }
        var sawOut = false
        var sawSource = false
        var words: [(String, Substring)] = []
        index = start
        while index < bytes.count {
            let wordStart = index
            while index < bytes.count, bytes[index] != UInt8(ascii: " ") { index += 1 }
            let word = wordStart..<index
            index += 1
            // The quoted packet of an ICMP error starts with `[`: nothing after it is this packet's.
            if bytes[word.lowerBound] == UInt8(ascii: "[") { break }
            guard let equals = bytes[word].firstIndex(of: UInt8(ascii: "=")) else { continue }
            // Keys are short ASCII: a small string, no allocation.
            let key = String(decoding: UnsafeBufferPointer(rebasing: bytes[word.lowerBound..<equals]), as: UTF8.self)
            let value = self.substring(text, bytes, equals + 1..<word.upperBound)
            switch key {
            case "IN": if !value.isEmpty { words.append(("in_iface", value)) }
            case "OUT":
                sawOut = true
                if !value.isEmpty { words.append(("out_iface", value)) }
            case "SRC":
                guard !sawSource, IPAddress.isValid(value) else { return false }
                sawSource = true
                words.append(("src_ip", value))
            case "DST": if IPAddress.isValid(value) { words.append(("dst_ip", value)) }
            case "PROTO": if !value.isEmpty { words.append(("protocol", value)) }
            case "SPT": if self.isPort(value) { words.append(("src_port", value)) }
            case "DPT": if self.isPort(value) { words.append(("dst_port", value)) }
            default: continue
            }
        }
        guard sawOut, sawSource else { return false }
        var prefix = self.substring(text, bytes, 0..<start)
        // The kernel's uptime stamp, `[ 3529.289825] `.
        if prefix.startsWith("["), let close = prefix.firstCharacterIndex(ascii: UInt8(ascii: "]")),
            prefix[prefix.index(after: prefix.startIndex)..<close].allSatisfy({ $0 == " " || $0 == "." || $0.isNumber })
        {
            prefix = prefix[prefix.index(after: close)...]
        }
        prefix = prefix.drop { $0 == " " }.trimmingTrailingSpaces()
        if !prefix.isEmpty {
            var tag = prefix
            if tag.startsWith("["), tag.hasSuffix("]") { tag = tag.dropFirst().dropLast() }
            parsed.append(("log_prefix", tag))
            if let action = self.action(tag) { parsed.append(("action", Substring(action))) }
        }
        parsed.append(contentsOf: words)
        return true
    }

    /// UFW's `UFW BLOCK`, `UFW ALLOW`, `UFW AUDIT`, `UFW LIMIT BLOCK`, `UFW AUDIT INVALID`; otherwise a word in the prefix.
    private static func action(_ prefix: Substring) -> String? {
        let upper = prefix.uppercased()
        if upper.hasPrefix("UFW ") {
            if upper.contains("BLOCK") { return "block" }
            if upper.contains("ALLOW") { return "allow" }
            if upper.contains("AUDIT") { return "audit" }
            return nil
        }
        for word in ["DROP", "REJECT", "DENY", "BLOCK"] where upper.contains(word) { return "block" }
        for word in ["ACCEPT", "ALLOW"] where upper.contains(word) { return "allow" }
        return nil
    }

    private static func isPort(_ value: Substring) -> Bool {
        !value.isEmpty && value.count <= 5 && value.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// `text`'s characters at the byte offsets `range` of its contiguous UTF-8 (`bytes`).
    private static func substring(
        _ text: Substring,
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>
    ) -> Substring {
        let lower = text.utf8.index(text.startIndex, offsetBy: range.lowerBound)
        let upper = text.utf8.index(lower, offsetBy: range.count)
        return text[lower..<upper]
    }
}
