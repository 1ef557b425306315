public import Crypto

/// Ed25519 verification as Flightlog applies it (PROTOCOL.md §1.1): swift-crypto's RFC 8032 check, and before it the
/// checks on the public key and the signature's encoding that RFC 8032 leaves to the application.
///
/// swift-crypto (BoringSSL's `ED25519_verify` on Linux) refuses a key that does not decode to a curve point and a
/// signature whose S is not below the group order L, and checks the cofactorless equation by re-encoding
/// [S]B − [k]A and comparing it byte for byte with R. It accepts a public key of small order (the all-zero key,
/// the identity): with such a key, [k]A is one of eight points whatever the message, so anyone can make a
/// signature that verifies, without any private key. It also accepts a non-canonical encoding of the key
/// (y ≥ p, or x = 0 with the sign bit set), which gives one key two key ids. Flightlog refuses both, and a signature whose R is of small order or
/// not canonical, as libsodium does; no honest signer produces either.
///
/// The eight points of small order have five y-coordinates; a point and its negation share one, so the check
/// compares the y-coordinate (the encoding without its sign bit) with these five. Nothing here does curve
/// arithmetic. Test vectors: `protocol/vectors/ed25519.json`, with the cases of Chalkias, Garillot and Nikolaenko,
/// "Taming the many EdDSAs" (2020).
public enum Ed25519 {
    /// Why a public key or a signature is refused before the signature equation is checked.
    public enum Defect: Error, Equatable, Sendable, CustomStringConvertible {
        /// The key is not 32 bytes.
        case keyLength(Int)
        /// The key's y-coordinate is not below p = 2^255 − 19, or its x is 0 with the sign bit set.
        case keyNotCanonical
        /// The key is one of the eight points of small order (order 1, 2, 4 or 8).
        case keySmallOrder
        /// The signature is not 64 bytes.
        case signatureLength(Int)
        /// The signature's R is not a canonical encoding.
        case rNotCanonical
        /// The signature's R is a point of small order.
        case rSmallOrder
        /// The signature's S is not below the group order L.
        case sNotReduced

        public var description: String {
            switch self {
            case .keyLength(let count): "an Ed25519 public key is 32 bytes, this is \(count)"
            case .keyNotCanonical: "the public key is not canonically encoded (its y-coordinate is not below p)"
            case .keySmallOrder: "the public key is a point of small order: anyone could sign for it"
            case .signatureLength(let count): "an Ed25519 signature is 64 bytes, this is \(count)"
            case .rNotCanonical: "the signature's R is not canonically encoded"
            case .rSmallOrder: "the signature's R is a point of small order"
            case .sNotReduced: "the signature's S is not below the group order"
            }
        }
    }

    /// The y-coordinates (little-endian, sign bit clear) of the eight points of small order: 0 (order 4), 1 (the
    /// identity), p − 1 (order 2), and two of order 8.
    static let smallOrderY: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        [0xec] + [UInt8](repeating: 0xff, count: 30) + [0x7f],
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
            0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
        ],
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
            0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
        ],
    ]

    /// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
    static let order: [UInt8] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ]

    /// Nil when `publicKey` is a key Flightlog accepts: 32 bytes, canonical, not of small order.
    public static func defect(publicKey: some Collection<UInt8>) -> Defect? {
        let bytes = Array(publicKey)
        guard bytes.count == 32 else { return .keyLength(bytes.count) }
        return Self.pointDefect(bytes, notCanonical: .keyNotCanonical, smallOrder: .keySmallOrder)
    }

    /// Nil when `signature` is 64 bytes with a canonical R not of small order and S below L.
    public static func defect(signature: some Collection<UInt8>) -> Defect? {
        let bytes = Array(signature)
        guard bytes.count == 64 else { return .signatureLength(bytes.count) }
        if let defect = Self.pointDefect(Array(bytes[0..<32]), notCanonical: .rNotCanonical, smallOrder: .rSmallOrder) {
            return defect
        }
        return Self.isBelowOrder(bytes[32..<64]) ? nil : .sNotReduced
    }

    /// Whether `signature` is a valid Flightlog Ed25519 signature of `message` under `publicKey`: the key and the
    /// signature pass ``defect(publicKey:)`` and ``defect(signature:)``, and swift-crypto's verification holds.
    public static func isValidSignature(
        _ signature: some Collection<UInt8>,
        for message: [UInt8],
        publicKey: Curve25519.Signing.PublicKey
    ) -> Bool {
        let signature = Array(signature)
        guard Self.defect(publicKey: publicKey.rawRepresentation) == nil, Self.defect(signature: signature) == nil
        else { return false }
        return publicKey.isValidSignature(signature, for: message)
    }

    /// A key Flightlog accepts, or the reason it does not.
    public static func publicKey(_ raw: some Collection<UInt8>) throws(Defect) -> Curve25519.Signing.PublicKey {
        let bytes = Array(raw)
        if let defect = Self.defect(publicKey: bytes) { throw defect }
        do {
            return try Curve25519.Signing.PublicKey(rawRepresentation: bytes)
        } catch {
            throw .keyLength(bytes.count)
        }
    }

    // MARK: - Encodings

    private static func pointDefect(_ bytes: [UInt8], notCanonical: Defect, smallOrder: Defect) -> Defect? {
        var y = bytes
        y[31] &= 0x7f
        // y ≥ p = 2^255 − 19: the top byte 0x7f, bytes 30…1 all 0xff, and the lowest byte ≥ 0xed.
        if y[31] == 0x7f, y[1...30].allSatisfy({ $0 == 0xff }), y[0] >= 0xed { return notCanonical }
        // x = 0 ("negative zero" when the sign bit is set) only for y = 1 and y = p − 1; RFC 8032 §5.1.3 refuses
        // the sign bit there.
        if bytes[31] & 0x80 != 0, y == Self.smallOrderY[1] || y == Self.smallOrderY[2] { return notCanonical }
        if Self.smallOrderY.contains(y) { return smallOrder }
        return nil
    }

    /// Whether the little-endian 256-bit number `scalar` is below L.
    private static func isBelowOrder(_ scalar: ArraySlice<UInt8>) -> Bool {
        let bytes = Array(scalar)
        for index in stride(from: 31, through: 0, by: -1) where bytes[index] != Self.order[index] {
            return bytes[index] < Self.order[index]
        }
        return false
    }
}
