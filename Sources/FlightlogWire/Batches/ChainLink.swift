/// How a batch relates to the last batch held for its agent and epoch (PROTOCOL.md §8).
public enum ChainLink: Equatable, Sendable {
    /// The first batch of an epoch nobody has seen: sequence 1 with a zero previous hash.
    case genesis
    /// Sequence is the head's plus one and the previous hash is the head's hash.
    case extends
    /// Sequence is past the head's plus one: batches `missing` are absent.
    case gap(missing: ClosedRange<UInt64>)
    /// Sequence is the head's plus one but the previous hash names another batch.
    case broken
    /// Sequence is at or below the head's: either a resend of a stored batch or an equivocation; the store decides
    /// by comparing hashes.
    case alreadySeen

    /// The head of a chain: the last sequence held and its hash.
    public struct Head: Equatable, Sendable {
        public var sequence: UInt64
        public var hash: Bytes32

        public init(sequence: UInt64, hash: Bytes32) {
            self.sequence = sequence
            self.hash = hash
        }
    }

    /// Classifies a batch with `sequence` and `previousHash` against `head` (nil when the epoch has no batch yet).
    public static func classify(sequence: UInt64, previousHash: Bytes32, head: Head?) -> ChainLink {
        guard let head else {
            // Sequence 0 does not exist (§8); SignedBatch refuses it, and here it must not reach `sequence - 1`.
            if sequence <= 1 {
                return sequence == 1 && previousHash == .zero ? .genesis : .broken
            }
            return .gap(missing: 1...(sequence - 1))
        }
        if sequence <= head.sequence { return .alreadySeen }
        if sequence == head.sequence + 1 {
            return previousHash == head.hash ? .extends : .broken
        }
        return .gap(missing: (head.sequence + 1)...(sequence - 1))
    }
}
