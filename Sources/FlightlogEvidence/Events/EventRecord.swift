public import FlightlogWire
import Foundation

/// One stored event with where it came from: what query, timeline and export print.
public struct EventRecord: Sendable, Equatable {
    public var id: Int64
    public var timeNanos: Int64
    public var observedNanos: Int64
    public var receivedNanos: Int64
    public var flags: Event.Flags
    public var host: String
    public var source: String
    public var program: String?
    public var pid: Int64?
    public var user: String?
    public var sourceIP: String?
    public var severity: String?
    /// The raw line, bytes exactly as the agent read them.
    public var line: [UInt8]
    /// The parsed fields as stored: a JSON object of strings (see ``FieldsJSON``).
    public var fieldsJSON: String
    /// The name of the agent that shipped it.
    public var agent: String
    /// The chain epoch and sequence number of the signed batch holding it, and its index in that batch.
    public var epoch: UInt64
    public var sequence: UInt64
    public var index: Int
    /// The row id of the batch (internal; for export).
    public var batchID: Int64

    public init(
        id: Int64,
        timeNanos: Int64,
        observedNanos: Int64,
        receivedNanos: Int64,
        flags: Event.Flags,
        host: String,
        source: String,
        program: String?,
        pid: Int64?,
        user: String?,
        sourceIP: String?,
        severity: String?,
        line: [UInt8],
        fieldsJSON: String,
        agent: String,
        epoch: UInt64,
        sequence: UInt64,
        index: Int,
        batchID: Int64
    ) {
        self.id = id
        self.timeNanos = timeNanos
        self.observedNanos = observedNanos
        self.receivedNanos = receivedNanos
        self.flags = flags
        self.host = host
        self.source = source
        self.program = program
        self.pid = pid
        self.user = user
        self.sourceIP = sourceIP
        self.severity = severity
        self.line = line
        self.fieldsJSON = fieldsJSON
        self.agent = agent
        self.epoch = epoch
        self.sequence = sequence
        self.index = index
        self.batchID = batchID
    }

    /// What is wrong with the program an event claims, when the agent found its identifier disagreeing with the
    /// process that sent it (`identity_mismatch`, journal entries): printed before the message, because anyone may
    /// write `logger -t sshd …`.
    public var identityMismatch: String? {
        guard self.fieldsJSON.utf8.count > 20, self.fieldsJSON.contains("\"identity_mismatch\":\"") else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(self.fieldsJSON.utf8)) as? [String: Any] else {
            return nil
        }
        return object["identity_mismatch"] as? String ?? (object["identity_mismatch"] as? [String])?.first
    }

    /// The line as text, with ``identityMismatch`` before it in brackets when there is one.
    public var displayedLine: String {
        let text = String(decoding: self.line, as: UTF8.self)
        guard let mismatch = self.identityMismatch else { return text }
        return "[identity: \(mismatch)] " + text
    }

    /// The time on `clock`.
    public func time(on clock: EventClock) -> Int64 {
        clock == .event ? self.timeNanos : self.receivedNanos
    }
}
