/// Exactly 32 bytes: a public key, a SHA-256 digest or a nonce.
public struct Bytes32: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes.
    public let bytes: [UInt8]

    /// All zero: the previous-batch hash of a chain's first batch.
    public static let zero = Bytes32(unchecked: [UInt8](repeating: 0, count: 32))

    /// Wraps `bytes`, or returns nil unless there are exactly 32 of them.
    public init?(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        guard array.count == 32 else { return nil }
        self.bytes = array
    }

    @usableFromInline
    init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses 64 hexadecimal digits.
    public init?(hex: String) {
        guard let bytes = [UInt8](hex: hex), bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Lower-case hexadecimal.
    public var hex: String { self.bytes.hexString }

    public var description: String { self.hex }
}

extension Array where Element == UInt8 {
    /// Parses an even number of hexadecimal digits; nil on anything else.
    public init?(hex: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8? = nil
        for c in hex.utf8 {
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        guard high == nil else { return nil }
        self = bytes
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal, two digits a byte.
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(self.underestimatedCount * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
