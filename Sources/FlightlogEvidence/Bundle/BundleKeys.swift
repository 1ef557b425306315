public import Foundation

/// `keys.json` of an evidence bundle: the public keys of the agents whose batches it holds, with the keys they held
/// before and the signed records that handed each rotated key over to the next.
///
/// As in ``BundleManifest``, a member that is absent, null or of the wrong type decodes as nil, so that one bad entry
/// is that entry's problem.
public struct BundleKeys: Codable, Sendable, Equatable {
    public var agents: [Agent]?

    public init(agents: [Agent]) { self.agents = agents }

    enum CodingKeys: String, CodingKey { case agents }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.agents = c.lenientList(.agents, empty: Agent())
    }

    public struct Agent: Codable, Sendable, Equatable {
        /// The enrolled name.
        public var name: String?
        /// The current Ed25519 public key, standard base64.
        public var publicKey: String?
        /// SHA-256 of the key, hex.
        public var keyID: String?
        /// RFC 3339 UTC.
        public var enrolled: String?
        /// RFC 3339 UTC; encoded as null when the key is not revoked.
        public var revoked: String?
        /// Keys held before the current one, oldest first (format 3).
        public var previousKeys: [PreviousKey]?
        /// Rotation records (PROTOCOL.md §4.12), hex, oldest first (format 3).
        public var rotations: [String]?

        public init(
            name: String,
            publicKey: String,
            keyID: String,
            enrolled: String,
            revoked: String?,
            previousKeys: [PreviousKey],
            rotations: [String]
        ) {
            self.name = name
            self.publicKey = publicKey
            self.keyID = keyID
            self.enrolled = enrolled
            self.revoked = revoked
            self.previousKeys = previousKeys
            self.rotations = rotations
        }

        /// An entry with no member: what an entry that is not an object decodes as.
        init() {}

        enum CodingKeys: String, CodingKey {
            case name, enrolled, revoked, rotations
            case publicKey = "public_key"
            case keyID = "key_id"
            case previousKeys = "previous_keys"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.name = c.lenient(.name)
            self.publicKey = c.lenient(.publicKey)
            self.keyID = c.lenient(.keyID)
            self.enrolled = c.lenient(.enrolled)
            self.revoked = c.lenient(.revoked)
            self.previousKeys = c.lenientList(.previousKeys, empty: PreviousKey())
            self.rotations = c.lenient(.rotations)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.name, forKey: .name)
            try container.encode(self.publicKey, forKey: .publicKey)
            try container.encode(self.keyID, forKey: .keyID)
            try container.encode(self.enrolled, forKey: .enrolled)
            // Written as null rather than left out: "not revoked" is a statement, not a missing value.
            try container.encode(self.revoked, forKey: .revoked)
            try container.encodeIfPresent(self.previousKeys, forKey: .previousKeys)
            try container.encodeIfPresent(self.rotations, forKey: .rotations)
        }
    }

    public struct PreviousKey: Codable, Sendable, Equatable {
        /// Standard base64.
        public var publicKey: String?
        /// RFC 3339 UTC: when the agent started using it, and stopped.
        public var from: String?
        public var until: String?
        /// `rotated` (handed over by a rotation record) or `reenrolled` (replaced by an operator's token).
        public var how: String?

        public init(publicKey: String, from: String, until: String, how: String) {
            self.publicKey = publicKey
            self.from = from
            self.until = until
            self.how = how
        }

        /// An entry with no member: what an entry that is not an object decodes as.
        init() {}

        enum CodingKeys: String, CodingKey {
            case from, until, how
            case publicKey = "public_key"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.publicKey = c.lenient(.publicKey)
            self.from = c.lenient(.from)
            self.until = c.lenient(.until)
            self.how = c.lenient(.how)
        }
    }

    /// As the exporter writes it (see ``BundleJSON``).
    public func encoded() throws -> [UInt8] { try BundleJSON.encode(self) }

    public static func decode(_ data: Data) -> BundleKeys? { BundleJSON.decode(Self.self, data) }
}
