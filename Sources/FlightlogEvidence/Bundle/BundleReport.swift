/// The outcome of checking an evidence bundle.
public struct BundleReport: Sendable, Equatable {
    public var events = 0
    public var batches = 0
    public var files = 0
    /// Batches whose inclusion proof leads to the root of the verified checkpoint.
    public var proofs = 0
    /// The bundle's checkpoint, once its signature verified.
    public var checkpoint: Checkpoint?
    /// The name of the key the checkpoint verified under.
    public var checkpointKey: String?
    /// Whether that key was given by the caller (trusted out of band) rather than read from the bundle.
    public var keyTrusted = false
    /// Whether the checkpoint is one of the caller's external checkpoints.
    public var matchedExternalCheckpoint = false
    /// Everything that does not check out, each naming the file, batch or event concerned.
    public var problems: [String] = []
    public var isValid: Bool { self.problems.isEmpty }
}
