import Crypto

/// The hash of a file's first bytes, which tells a reused inode from the file that had it before.
struct Fingerprint: Equatable {
    /// Most leading bytes hashed: enough to differ between files that start with a timestamp and host.
    static let maxLength = 256

    /// Lower-case hex SHA-256 of the prefix.
    var hex: String
    /// How many bytes were hashed.
    var length: Int

    init(hex: String, length: Int) {
        self.hex = hex
        self.length = length
    }

    /// The fingerprint of `prefix` (callers pass at most ``maxLength`` bytes).
    init<Bytes: Sequence<UInt8>>(of prefix: Bytes, count: Int) {
        let digest = SHA256.hash(data: Array(prefix))
        var hex = ""
        hex.reserveCapacity(64)
        let digits: [Character] = Array("0123456789abcdef")
        for byte in digest {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        self.hex = hex
        self.length = count
    }

    /// Whether `bytes` (the file's first bytes, at least ``length`` of them) start with the hashed prefix.
    func matches(_ bytes: [UInt8]) -> Bool {
        // `length` comes from the state file: a negative one would trap in prefix(_:).
        guard self.length >= 0, bytes.count >= self.length else { return false }
        return Fingerprint(of: bytes.prefix(self.length), count: self.length).hex == self.hex
    }
}
