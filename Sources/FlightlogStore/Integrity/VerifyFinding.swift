/// One way in which the stored evidence differs from what was signed, chained, indexed or checkpointed, found by
/// `flightlog verify`. Every finding is a failure: none is a warning.
public struct VerifyFinding: Equatable, Sendable, Codable {
    /// What is wrong.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// A stored envelope does not parse as a batch (or its payload does not decode).
        case batchMalformed = "batch_malformed"
        /// SHA-256 of the stored envelope is not the stored batch hash.
        case hashMismatch = "hash_mismatch"
        /// The envelope's Ed25519 signature does not verify under its agent's enrolled key.
        case badSignature = "bad_signature"
        /// The envelope names a key that is not its agent's enrolled key (or its agent is not enrolled).
        case unknownKey = "unknown_key"
        /// An agent's stored key id is not SHA-256 of its stored public key, or the key is not an Ed25519 key.
        case agentKeyAltered = "agent_key_altered"
        /// An agent's enrolled public key is of small order or not canonically encoded (PROTOCOL.md §1.1): anyone can
        /// make a signature that verifies under a key of small order, so the batches it signed prove no origin.
        case forgeableKey = "forgeable_key"
        /// A key rotation does not hold: its record's signatures, the keys it names, the old chain's head it names,
        /// or a key added as a rotation with no signed record handing over to it (PROTOCOL.md §4.12).
        case rotationInvalid = "rotation_invalid"
        /// The batch was received before its agent's enrolment or after its revocation.
        case keyNotValidAtReceipt = "key_not_valid_at_receipt"
        /// A batch row's columns (epoch, sequence, previous hash, times, event count) disagree with its envelope.
        case batchRowMismatch = "batch_row_mismatch"
        /// A batch does not name its predecessor's hash (or a first batch names a non-zero one).
        case chainBroken = "chain_broken"
        /// Sequence numbers of a chain are missing.
        case gap
        /// Two stored batches claim one sequence number of one chain.
        case equivocation
        /// The `chains` table (head, counts) disagrees with the stored batches.
        case chainHeadMismatch = "chain_head_mismatch"
        /// An indexed row differs from the event decoded from its batch.
        case rowEdited = "row_edited"
        /// An event of a batch has no indexed row.
        case rowDeleted = "row_deleted"
        /// An indexed row belongs to no batch.
        case rowInserted = "row_inserted"
        /// The full-text index of a row disagrees with the row's authentic text.
        case ftsMismatch = "fts_mismatch"
        /// The full-text index holds entries for a row that does not exist.
        case ftsOrphan = "fts_orphan"
        /// A leaf of the transparency log names a batch that is no longer stored.
        case batchDeleted = "batch_deleted"
        /// A stored batch is not in the transparency log.
        case leafMissing = "leaf_missing"
        /// A stored leaf hash is not the hash recomputed from its batch.
        case leafMismatch = "leaf_mismatch"
        /// The stored Merkle tree (leaf indices, interior nodes) is not the tree recomputed from its leaves.
        case treeMismatch = "tree_mismatch"
        /// The tree does not match a signed checkpoint: smaller than it, another root at its size, or no
        /// consistency between two checkpoints.
        case checkpointInconsistent = "checkpoint_inconsistent"
        /// A checkpoint's signature does not verify under the trusted aggregator key, or its origin is another log's.
        case checkpointBadSignature = "checkpoint_bad_signature"
        /// A checkpoint could not be parsed, or its table row disagrees with its note.
        case checkpointMalformed = "checkpoint_malformed"
        /// No trusted aggregator key was available, so checkpoints could not be authenticated.
        case checkpointUnverifiable = "checkpoint_unverifiable"
        /// The tree holds batches older than the checkpoint interval allows, yet no checkpoint exists.
        case checkpointMissing = "checkpoint_missing"
        /// The investigators' audit trail chain does not verify (reported by the audit-trail check when present).
        case auditChain = "audit_chain"
        /// SQLite's own integrity check (`verify --deep`) fails on a file: a B-tree index that disagrees with its
        /// table (which would hide rows from filtered queries), or damaged pages.
        case storageCorrupt = "storage_corrupt"
    }

    public var kind: Kind
    public var agent: String?
    public var agentID: Int64?
    public var epoch: UInt64?
    public var sequence: UInt64?
    public var batchID: Int64?
    public var rowID: Int64?
    public var detail: String

    public init(
        _ kind: Kind,
        agent: String? = nil,
        agentID: Int64? = nil,
        epoch: UInt64? = nil,
        sequence: UInt64? = nil,
        batchID: Int64? = nil,
        rowID: Int64? = nil,
        _ detail: String
    ) {
        self.kind = kind
        self.agent = agent
        self.agentID = agentID
        self.epoch = epoch
        self.sequence = sequence
        self.batchID = batchID
        self.rowID = rowID
        self.detail = detail
    }
}
