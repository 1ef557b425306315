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
        _ = text.utf8.withContiguousStorageIfAvailable { bytes in self.parse(bytes, into: &fields) }
    }

    /// Where the packet's values are in the line.
    private struct Packet {
        var inIface: Range<Int>?
        var outIface: Range<Int>?
        var source: Range<Int>?
        var destination: Range<Int>?
        var proto: Range<Int>?
        var sourcePort: Range<Int>?
        var destinationPort: Range<Int>?
        var sawOut = false
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, into fields: inout FieldList) {
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
        guard start >= 0 else { return }
        var packet = Packet()
        index = start
        while index < bytes.count {
            let wordStart = index
            var equals = -1
            while index < bytes.count, bytes[index] != UInt8(ascii: " ") {
                if equals < 0, bytes[index] == UInt8(ascii: "=") { equals = index }
                index += 1
            }
            let wordEnd = index
            index += 1
            // The quoted packet of an ICMP error starts with `[`: nothing after it is this packet's.
            if wordEnd > wordStart, bytes[wordStart] == UInt8(ascii: "[") { break }
            guard equals > wordStart else { continue }
            let value = equals + 1..<wordEnd
            switch (equals - wordStart, bytes[wordStart], bytes[wordStart + 1]) {
            case (2, UInt8(ascii: "I"), UInt8(ascii: "N")): packet.inIface = value
            case (3, UInt8(ascii: "O"), UInt8(ascii: "U")) where bytes[wordStart + 2] == UInt8(ascii: "T"):
                packet.sawOut = true
                packet.outIface = value
            case (3, UInt8(ascii: "S"), UInt8(ascii: "R")) where bytes[wordStart + 2] == UInt8(ascii: "C"):
                // Two sources outside brackets: not a LOG line as the kernel writes it.
                guard packet.source == nil else { return }
                packet.source = value
            case (3, UInt8(ascii: "D"), UInt8(ascii: "S")) where bytes[wordStart + 2] == UInt8(ascii: "T"):
                packet.destination = value
            case (5, UInt8(ascii: "P"), UInt8(ascii: "R"))
            where CivilTime.starts(bytes, wordStart, bytes.count, "PROTO"):
                packet.proto = value
            case (3, UInt8(ascii: "S"), UInt8(ascii: "P")) where bytes[wordStart + 2] == UInt8(ascii: "T"):
                packet.sourcePort = value
            case (3, UInt8(ascii: "D"), UInt8(ascii: "P")) where bytes[wordStart + 2] == UInt8(ascii: "T"):
                packet.destinationPort = value
            default: continue
            }
        }
        guard packet.sawOut, let source = packet.source,
            IPAddress.isValid(UnsafeBufferPointer(rebasing: bytes[source]))
        else { return }

        // The prefix, without the kernel's uptime stamp (`[ 3529.289825] `), spaces and UFW's brackets.
        var prefix = 0..<start
        if CivilTime.byte(bytes, 0) == UInt8(ascii: "[") {
            var close = 1
            while close < start,
                bytes[close] == UInt8(ascii: " ") || bytes[close] == UInt8(ascii: ".")
                    || CivilTime.isDigit(bytes[close])
            {
                close += 1
            }
            if close < start, bytes[close] == UInt8(ascii: "]") { prefix = close + 1..<start }
        }
        while !prefix.isEmpty, bytes[prefix.lowerBound] == UInt8(ascii: " ") { prefix = prefix.dropFirst() }
        while !prefix.isEmpty, bytes[prefix.upperBound - 1] == UInt8(ascii: " ") { prefix = prefix.dropLast() }
        if prefix.count >= 2, bytes[prefix.lowerBound] == UInt8(ascii: "["),
            bytes[prefix.upperBound - 1] == UInt8(ascii: "]")
        {
            prefix = prefix.dropFirst().dropLast()
        }
        if !prefix.isEmpty {
            fields.add("log_prefix", utf8: bytes, prefix)
            if let action = self.action(bytes, prefix) { fields.add("action", action) }
        }
        if let range = packet.inIface, !range.isEmpty { fields.add("in_iface", utf8: bytes, range) }
        if let range = packet.outIface, !range.isEmpty { fields.add("out_iface", utf8: bytes, range) }
        fields.add("src_ip", utf8: bytes, source)
        if let range = packet.destination, IPAddress.isValid(UnsafeBufferPointer(rebasing: bytes[range])) {
            fields.add("dst_ip", utf8: bytes, range)
        }
        if let range = packet.proto, !range.isEmpty { fields.add("protocol", utf8: bytes, range) }
        if let range = packet.sourcePort, self.isPort(bytes, range) { fields.add("src_port", utf8: bytes, range) }
        if let range = packet.destinationPort, self.isPort(bytes, range) { fields.add("dst_port", utf8: bytes, range) }
    }

    /// UFW's `UFW BLOCK`, `UFW ALLOW`, `UFW AUDIT`, `UFW LIMIT BLOCK`, `UFW AUDIT INVALID`; otherwise a word in the prefix
    /// (any case).
    private static func action(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: Range<Int>) -> String? {
        if CivilTime.starts(bytes, prefix.lowerBound, bytes.count, "UFW ") {
            if self.contains(bytes, prefix, "BLOCK") { return "block" }
            if self.contains(bytes, prefix, "ALLOW") { return "allow" }
            if self.contains(bytes, prefix, "AUDIT") { return "audit" }
            return nil
        }
        for word: StaticString in ["DROP", "REJECT", "DENY", "BLOCK"] where self.contains(bytes, prefix, word) {
            return "block"
        }
        for word: StaticString in ["ACCEPT", "ALLOW"] where self.contains(bytes, prefix, word) { return "allow" }
        return nil
    }

    /// Whether `word` (upper-case ASCII) occurs in `range`, in any case.
    private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ word: StaticString) -> Bool
    {
        let count = word.utf8CodeUnitCount
        guard range.count >= count else { return false }
        for start in range.lowerBound...(range.upperBound - count) {
            var offset = 0
            while offset < count, bytes[start + offset] & 0xDF == word.utf8Start[offset] { offset += 1 }
            if offset == count { return true }
        }
        return false
    }

    private static func isPort(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        !range.isEmpty && range.count <= 5 && bytes[range].allSatisfy(CivilTime.isDigit)
    }
}
