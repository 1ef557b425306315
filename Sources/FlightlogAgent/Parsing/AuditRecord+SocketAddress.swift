// MARK: - SOCKADDR records

extension AuditRecord {
    /// The address of a SOCKADDR record's `saddr`: the kernel's `struct sockaddr`, hex-encoded.
    ///
    /// ```
    /// AF_INET   02 00 | port (2, big-endian) | address (4) | zero (8)
    /// AF_INET6  0A 00 | port (2, big-endian) | flow info (4) | address (16) | scope id (4)
    /// ```
    ///
    /// The family is the host's byte order (little-endian on x86-64 and arm64, the machines auditd runs on here).
    /// Other families (`01 00`, a Unix socket's path; `00 00`, AF_UNSPEC, a disconnect; `10 00`, netlink) have no
    /// network address: nil.
    struct SocketAddress: Equatable {
        /// The address as text: dotted IPv4, or IPv6 in RFC 5952's form; an IPv4-mapped IPv6 address as IPv4.
        var ip: String
        var port: UInt16

        init(ip: String, port: UInt16) {
            self.ip = ip
            self.port = port
        }

        /// Decodes `saddr`'s hex (upper or lower case); nil for another family or a value too short for its family.
        init?(hex text: String) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(28)
            var high: UInt8?
            for byte in text.utf8.prefix(56) {
                guard let value = Self.nibble(byte) else { return nil }
                if let first = high {
                    bytes.append(first << 4 | value)
                    high = nil
                } else {
                    high = value
                }
            }
            guard bytes.count >= 8, bytes[1] == 0 else { return nil }
            let port = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
            switch bytes[0] {
            case 2:
                self.init(ip: Self.ipv4(bytes[4..<8]), port: port)
            case 10:
                guard bytes.count >= 24 else { return nil }
                self.init(ip: Self.ipv6(Array(bytes[8..<24])), port: port)
            default:
                return nil
            }
        }

        private static func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte &- UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte &- UInt8(ascii: "A") &+ 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
        }

        private static func ipv4(_ bytes: ArraySlice<UInt8>) -> String {
            bytes.map { String($0) }.joined(separator: ".")
        }

        /// RFC 5952: lower-case hex without leading zeros, the longest run of two or more zero groups (the first of
        /// equal runs) as `::`.
        static func ipv6(_ bytes: [UInt8]) -> String {
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
                return Self.ipv4(bytes[12..<16])
            }
            let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
            var bestStart = -1
            var bestLength = 1
            var index = 0
            while index < 8 {
                guard groups[index] == 0 else {
                    index += 1
                    continue
                }
                let start = index
                while index < 8, groups[index] == 0 { index += 1 }
                if index - start > bestLength {
                    bestStart = start
                    bestLength = index - start
                }
            }
            func hex(_ range: Range<Int>) -> String {
                groups[range].map { String($0, radix: 16) }.joined(separator: ":")
            }
            guard bestStart >= 0 else { return hex(0..<8) }
            return hex(0..<bestStart) + "::" + hex(bestStart + bestLength..<8)
        }
    }
}
