import Crypto
import FlightlogWire
import Foundation
import Testing

struct Ed25519Group: Codable, Sendable {
    /// `KeyTest` or `SignatureTest`.
    var type: String
    var tests: [Ed25519Vector]
}

struct Ed25519Vector: Codable, Sendable {
    var tcId: Int
    var comment: String
    var publicKey: String
    var result: String
    /// The first check that fails (`Ed25519.Defect`'s case name, or `equation`); absent when valid.
    var defect: String?
    var forgedMessage: String?
    var forgedSignature: String?
    var message: String?
    var signature: String?
    var swiftCryptoAlone: Bool?
}

/// `protocol/vectors/ed25519.json` (PROTOCOL.md §1.1): which keys and signatures Flightlog refuses, and why.
@Suite("Ed25519 as Flightlog verifies it")
struct Ed25519Tests {
    static let file: VectorFile<Ed25519Group>? = try? VectorFile<Ed25519Group>.read("ed25519.json")

    static func group(_ type: String) -> [Ed25519Vector] {
        Self.file?.testGroups.first { $0.type == type }?.tests ?? []
    }

    static func name(_ defect: Ed25519.Defect?) -> String? {
        switch defect {
        case nil: nil
        case .keyLength: "keyLength"
        case .keyNotCanonical: "keyNotCanonical"
        case .keySmallOrder: "keySmallOrder"
        case .signatureLength: "signatureLength"
        case .rNotCanonical: "rNotCanonical"
        case .rSmallOrder: "rSmallOrder"
        case .sNotReduced: "sNotReduced"
        }
    }

    @Test func theVectorFileIsComplete() throws {
        let file = try #require(Self.file)
        #expect(file.numberOfTests == file.testGroups.map(\.tests.count).reduce(0, +))
        #expect(Self.group("KeyTest").count == 53)
        #expect(Self.group("SignatureTest").count == 12)
    }

    @Test(arguments: Self.group("KeyTest"))
    func keys(_ vector: Ed25519Vector) throws {
        let raw = try #require([UInt8](hex: vector.publicKey))
        let defect = Ed25519.defect(publicKey: raw)
        #expect(Self.name(defect) == vector.defect, "\(vector.tcId): \(vector.comment)")
        #expect((defect == nil) == (vector.result == "valid"))
        #expect((try? Ed25519.publicKey(raw)) != nil || vector.result == "invalid")
        // The forgery the check prevents: a signature made without a private key that swift-crypto alone accepts.
        if let message = vector.forgedMessage.flatMap([UInt8].init(hex:)),
            let signature = vector.forgedSignature.flatMap([UInt8].init(hex:))
        {
            let key = try Curve25519.Signing.PublicKey(rawRepresentation: raw)
            #expect(key.isValidSignature(signature, for: message), "\(vector.tcId): swift-crypto alone accepts it")
            #expect(!Ed25519.isValidSignature(signature, for: message, publicKey: key), "\(vector.tcId)")
        }
    }

    @Test(arguments: Self.group("SignatureTest"))
    func signatures(_ vector: Ed25519Vector) throws {
        let raw = try #require([UInt8](hex: vector.publicKey))
        let message = try #require(vector.message.flatMap([UInt8].init(hex:)))
        let signature = try #require(vector.signature.flatMap([UInt8].init(hex:)))
        let key = try Curve25519.Signing.PublicKey(rawRepresentation: raw)
        #expect(
            key.isValidSignature(signature, for: message) == vector.swiftCryptoAlone,
            "\(vector.tcId): what swift-crypto answers alone, as PROTOCOL.md §1.1 states it"
        )
        #expect(
            Ed25519.isValidSignature(signature, for: message, publicKey: key) == (vector.result == "valid"),
            "\(vector.tcId): \(vector.comment)"
        )
        let found = Self.name(Ed25519.defect(publicKey: raw) ?? Ed25519.defect(signature: signature))
        #expect((found ?? (vector.result == "valid" ? nil : "equation")) == vector.defect, "\(vector.tcId)")
    }

    @Test func aGenuineSignatureVerifiesAndAnyFlippedBitDoesNot() throws {
        let message = Array("FLIGHTLOG".utf8)
        let signature = Array(try Fixtures.agentKey.signature(for: message))
        let key = Fixtures.agentKey.publicKey
        #expect(Ed25519.isValidSignature(signature, for: message, publicKey: key))
        for bit in 0..<(64 * 8) {
            var flipped = signature
            flipped[bit / 8] ^= 1 << (bit % 8)
            #expect(!Ed25519.isValidSignature(flipped, for: message, publicKey: key), "bit \(bit)")
        }
        #expect(Ed25519.defect(signature: signature.dropLast()) == .signatureLength(63))
    }

    /// S at and around the group order L (little-endian): only values below L pass the encoding check.
    @Test func sIsCheckedAgainstTheGroupOrder() throws {
        let r = Array(try Fixtures.agentKey.signature(for: [1]).prefix(32))
        let order: [UInt8] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ]
        var belowOrder = order
        belowOrder[0] -= 1
        var aboveOrder = order
        aboveOrder[0] += 1
        #expect(Ed25519.defect(signature: r + belowOrder) == nil)
        #expect(Ed25519.defect(signature: r + order) == .sNotReduced)
        #expect(Ed25519.defect(signature: r + aboveOrder) == .sNotReduced)
        #expect(Ed25519.defect(signature: r + [UInt8](repeating: 0xff, count: 32)) == .sNotReduced)
        #expect(Ed25519.defect(signature: r + [UInt8](repeating: 0, count: 32)) == nil)
    }
}
