import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// One thing an investigator did: who ran which command with which arguments, when, and what came of it.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64?
    public var atNanos: Int64
    /// `$SUDO_USER`, else `$USER`, else `uid N`, with the uid: `alice (uid 1000)`.
    public var who: String
    /// The subcommand: `query`, `timeline`, `stats`, `hunt`, `export`.
    public var command: String
    /// The command-line arguments after the subcommand, as typed.
    public var arguments: [String]
    /// Events (or rows) the command produced; nil when it failed before counting.
    public var resultCount: Int64?
    /// `ok`, `no match`, or `error: …`.
    public var outcome: String
    public var previousHash: [UInt8]
    public var hash: [UInt8]

    public init(
        id: Int64? = nil,
        atNanos: Int64,
        who: String,
        command: String,
        arguments: [String],
        resultCount: Int64?,
        outcome: String,
        previousHash: [UInt8] = [],
        hash: [UInt8] = []
    ) {
        self.id = id
        self.atNanos = atNanos
        self.who = who
        self.command = command
        self.arguments = arguments
        self.resultCount = resultCount
        self.outcome = outcome
        self.previousHash = previousHash
        self.hash = hash
    }
}
