public import Foundation

/// `manifest.json` of an evidence bundle: written by the exporter, read by ``BundleVerifier``.
///
/// Every member is optional when decoded, and one that is absent, null or of the wrong type decodes as nil (see
/// ``BundleJSON``), so that one bad entry is reported as that entry's problem instead of making the whole manifest
/// unreadable; the exporter always writes them all.
public struct BundleManifest: Codable, Sendable, Equatable {
    public var format: String?
    /// When the bundle was made, RFC 3339 UTC.
    public var created: String?
    /// Who made it (the operating-system user).
    public var createdBy: String?
    /// The command line that made it.
    public var command: [String]?
    /// The filters of the export by name (`since`, `until`, `host`, …, `where1`, `where2`, …).
    public var filters: [String: String]?
    public var counts: Counts?
    /// Where the checkpoint and the aggregator key are; nil when no batch was exported and no checkpoint existed.
    public var transparency: Transparency?
    public var batches: [Batch]?
    /// Every other file of the bundle with its size and SHA-256.
    public var files: [File]?

    public init(
        format: String,
        created: String,
        createdBy: String,
        command: [String],
        filters: [String: String],
        counts: Counts,
        transparency: Transparency?,
        batches: [Batch],
        files: [File]
    ) {
        self.format = format
        self.created = created
        self.createdBy = createdBy
        self.command = command
        self.filters = filters
        self.counts = counts
        self.transparency = transparency
        self.batches = batches
        self.files = files
    }

    enum CodingKeys: String, CodingKey {
        case format, created, command, filters, counts, transparency, batches, files
        case createdBy = "created_by"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.format = c.lenient(.format)
        self.created = c.lenient(.created)
        self.createdBy = c.lenient(.createdBy)
        self.command = c.lenient(.command)
        self.filters = c.lenient(.filters)
        self.counts = c.lenient(.counts)
        self.transparency = c.lenient(.transparency)
        self.batches = c.lenientList(.batches, empty: Batch())
        self.files = c.lenientList(.files, empty: File())
    }

    public struct Counts: Codable, Sendable, Equatable {
        public var events: Int?
        public var batches: Int?
        public var agents: Int?

        public init(events: Int, batches: Int, agents: Int) {
            self.events = events
            self.batches = batches
            self.agents = agents
        }

        enum CodingKeys: String, CodingKey { case events, batches, agents }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.events = c.lenient(.events)
            self.batches = c.lenient(.batches)
            self.agents = c.lenient(.agents)
        }
    }

    public struct Transparency: Codable, Sendable, Equatable {
        /// The file of the signed checkpoint (``BundleFormat/checkpointFile``).
        public var checkpoint: String?
        /// The file of the aggregator's verifier key (``BundleFormat/aggregatorKeyFile``).
        public var aggregatorKey: String?
        /// The log's origin line.
        public var origin: String?
        public var treeSize: UInt64?

        public init(checkpoint: String, aggregatorKey: String, origin: String, treeSize: UInt64) {
            self.checkpoint = checkpoint
            self.aggregatorKey = aggregatorKey
            self.origin = origin
            self.treeSize = treeSize
        }

        enum CodingKeys: String, CodingKey {
            case checkpoint, origin
            case aggregatorKey = "aggregator_key"
            case treeSize = "tree_size"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.checkpoint = c.lenient(.checkpoint)
            self.aggregatorKey = c.lenient(.aggregatorKey)
            self.origin = c.lenient(.origin)
            self.treeSize = c.lenient(.treeSize)
        }
    }

    /// One signed batch of the bundle and its inclusion proof.
    public struct Batch: Codable, Sendable, Equatable {
        /// Its file under `batches/`.
        public var file: String?
        /// The agent's enrolled name.
        public var agent: String?
        public var epoch: UInt64?
        public var sequence: UInt64?
        /// SHA-256 of the signed envelope, hex.
        public var batchHash: String?
        /// When the aggregator received it: part of its transparency-log leaf.
        public var receivedNanos: Int64?
        public var leafIndex: UInt64?
        /// The RFC 6962 audit path from its leaf to the checkpoint's root, hex hashes.
        public var auditPath: [String]?

        public init(
            file: String,
            agent: String,
            epoch: UInt64,
            sequence: UInt64,
            batchHash: String,
            receivedNanos: Int64?,
            leafIndex: UInt64?,
            auditPath: [String]?
        ) {
            self.file = file
            self.agent = agent
            self.epoch = epoch
            self.sequence = sequence
            self.batchHash = batchHash
            self.receivedNanos = receivedNanos
            self.leafIndex = leafIndex
            self.auditPath = auditPath
        }

        /// An entry with no member: what an entry that is not an object decodes as.
        init() {}

        enum CodingKeys: String, CodingKey {
            case file, agent, epoch
            case sequence = "seq"
            case batchHash = "batch_hash"
            case receivedNanos = "received_ns"
            case leafIndex = "leaf_index"
            case auditPath = "audit_path"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.file = c.lenient(.file)
            self.agent = c.lenient(.agent)
            self.epoch = c.lenient(.epoch)
            self.sequence = c.lenient(.sequence)
            self.batchHash = c.lenient(.batchHash)
            self.receivedNanos = c.lenient(.receivedNanos)
            self.leafIndex = c.lenient(.leafIndex)
            self.auditPath = c.lenient(.auditPath)
        }
    }

    public struct File: Codable, Sendable, Equatable {
        /// Relative to the bundle's directory.
        public var path: String?
        public var bytes: Int?
        /// SHA-256 of the file, hex.
        public var sha256: String?

        public init(path: String, bytes: Int, sha256: String) {
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
        }

        /// An entry with no member: what an entry that is not an object decodes as.
        init() {}

        enum CodingKeys: String, CodingKey { case path, bytes, sha256 }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.path = c.lenient(.path)
            self.bytes = c.lenient(.bytes)
            self.sha256 = c.lenient(.sha256)
        }
    }

    /// The manifest as the exporter writes it (see ``BundleJSON``).
    public func encoded() throws -> [UInt8] { try BundleJSON.encode(self) }

    /// Reads a manifest; nil when the bytes are not a JSON object of this shape.
    public static func decode(_ data: Data) -> BundleManifest? { BundleJSON.decode(Self.self, data) }
}
