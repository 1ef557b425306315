import Crypto
public import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// What an export wrote.
public struct ExportSummary: Sendable, Equatable {
    public var events: Int
    public var batches: Int
    public var agents: Int
    /// SHA-256 (hex) of manifest.json, to write down in the case notes: it pins every other file.
    public var manifestSHA256: String
    /// The checkpoint the batches' inclusion proofs lead to (nil only when no batch was exported and no checkpoint
    /// exists).
    public var checkpoint: Checkpoint?
    /// Whether that checkpoint was signed for this export because no stored one covered every exported batch.
    public var signedCheckpoint: Bool
    /// SHA-256 (hex) of report.html, when the bundle has one.
    public var reportSHA256: String?
}
