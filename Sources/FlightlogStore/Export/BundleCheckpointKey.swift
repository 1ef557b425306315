import Crypto
public import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// The aggregator's checkpoint key as an export reaches it: the verifier key always (it goes into the bundle), the
/// private key only when the exporter may read it.
public struct BundleCheckpointKey: Sendable {
    /// The key whose checkpoints the bundle's proofs lead to; bundled as aggregator.pub.
    public var verifier: CheckpointVerifier
    /// Signs (and stores) a checkpoint of the whole current tree, for when no stored checkpoint covers every
    /// exported batch; nil when the private key is not available to the exporter.
    public var signFresh: (@Sendable () async throws -> SignedCheckpoint)?
    /// The checkpoints to choose from, oldest first, instead of the stored ones: an off-site copy, so that the
    /// recipient can match the bundle's checkpoint against the same copy. Nothing is signed when they are given.
    public var candidates: [SignedCheckpoint]?

    public init(
        verifier: CheckpointVerifier,
        signFresh: (@Sendable () async throws -> SignedCheckpoint)?,
        candidates: [SignedCheckpoint]? = nil
    ) {
        self.verifier = verifier
        self.signFresh = signFresh
        self.candidates = candidates
    }
}
