/// IP address literals checked byte by byte, as strictly as the C library's `inet_pton` reads them, for the parsers of
/// web, firewall and service logs: a value that is not an address is never stored as one.
enum IPAddress {
    /// Whether `text` is a dotted-quad IPv4 address or an IPv6 address (`::`, an embedded IPv4 tail; no zone).
    static func isValid(_ text: Substring) -> Bool {
        let result: Bool? = text.utf8.withContiguousStorageIfAvailable { self.isValid($0) }
        if let result { return result }
        return Array(text.utf8).withUnsafeBufferPointer { self.isValid($0) }
    }

    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 45 else { return false }
        return bytes.contains(UInt8(ascii: ":")) ? self.isIPv6(bytes) : self.isIPv4(bytes, from: 0)
    }

    /// `text` without an IPv4-mapped IPv6 prefix (`::ffff:192.0.2.1` → `192.0.2.1`), so that an address reads the same
    /// whichever socket family the service listened on; any other text as it is.
    static func unmapped(_ text: Substring) -> Substring {
        for prefix in ["::ffff:", "::FFFF:"] {
            if let rest = text.after(prefix), self.isValid(rest), !rest.contains(":") { return rest }
        }
        return text
    }

    /// Whether a valid address is a loopback, private (RFC 1918), link-local or unique-local one: a proxy's, not the
    /// client's, in a list of forwarded-for addresses.
    static func isInternal(_ text: Substring) -> Bool {
        let address = self.unmapped(text)
        if address.contains(":") {
            let lower = address.lowercased()
            return lower == "::1" || lower.hasPrefix("fc") || lower.hasPrefix("fd") || lower.hasPrefix("fe8")
                || lower.hasPrefix("fe9") || lower.hasPrefix("fea") || lower.hasPrefix("feb")
        }
        let octets = address.split(separator: ".").compactMap { Int($0) }
        guard octets.count == 4 else { return false }
        switch (octets[0], octets[1]) {
        case (10, _), (127, _), (192, 168), (169, 254): return true
        case (172, 16...31): return true
        default: return false
        }
    }

    // MARK: Grammar

    private static func isIPv4(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        var octets = 0
        var index = start
        while index < bytes.count {
            var value = 0
            var digits = 0
            while index < bytes.count, CivilTime.isDigit(bytes[index]) {
                // inet_pton reads no leading zeros ("01" is not an octet).
                if digits == 1 && value == 0 { return false }
                value = value * 10 + Int(bytes[index] &- 0x30)
                digits += 1
                index += 1
                guard value <= 255 else { return false }
            }
            guard digits > 0 else { return false }
            octets += 1
            if index == bytes.count { break }
            guard bytes[index] == UInt8(ascii: "."), octets < 4 else { return false }
            index += 1
            guard index < bytes.count else { return false }
        }
        return octets == 4
    }

    private static func isIPv6(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let colon = UInt8(ascii: ":")
        var index = 0
        var groups = 0
        var compressed = false
        if bytes[0] == colon {
            guard bytes.count >= 2, bytes[1] == colon else { return false }
            compressed = true
            index = 2
            if index == bytes.count { return true }
        }
        while index < bytes.count {
            let groupStart = index
            var digits = 0
            while index < bytes.count, self.isHex(bytes[index]) {
                digits += 1
                index += 1
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                // An IPv4 tail takes the last two groups.
                guard self.isIPv4(UnsafeBufferPointer(rebasing: bytes[groupStart...]), from: 0) else { return false }
                groups += 2
                index = bytes.count
                break
            }
            guard digits > 0, digits <= 4 else { return false }
            groups += 1
            if index == bytes.count { break }
            guard bytes[index] == colon else { return false }
            index += 1
            guard index < bytes.count else { return false }
            if bytes[index] == colon {
                guard !compressed else { return false }
                compressed = true
                index += 1
            }
        }
        return compressed ? groups <= 7 : groups == 8
    }

    @inline(__always)
    static func isHex(_ byte: UInt8) -> Bool {
        CivilTime.isDigit(byte) || (byte | 0x20) &- UInt8(ascii: "a") < 6
    }
}
