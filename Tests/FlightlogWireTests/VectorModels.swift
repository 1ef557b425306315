import FlightlogWire
import Foundation

// MARK: - File shape (Wycheproof)

/// A vector file in the Wycheproof shape: 64-bit integers are decimal strings, bytes are lower-case hex.
struct VectorFile<Group: Codable & Sendable>: Codable, Sendable {
    var algorithm: String
    var generatorVersion: String
    var notes: String
    var numberOfTests: Int
    var testGroups: [Group]

    init(algorithm: String, notes: String, testGroups: [Group], count: (Group) -> Int) {
        self.algorithm = algorithm
        self.generatorVersion = "1"
        self.notes = notes
        self.numberOfTests = testGroups.map(count).reduce(0, +)
        self.testGroups = testGroups
    }

    static func read(_ name: String) throws -> VectorFile {
        let url = ProtocolDirectory.vectors.appendingPathComponent(name)
        return try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: url))
    }

    func write(_ name: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        try FileManager.default.createDirectory(at: ProtocolDirectory.vectors, withIntermediateDirectories: true)
        try data.write(to: ProtocolDirectory.vectors.appendingPathComponent(name))
    }
}

// MARK: - frames.json

struct FrameGroup: Codable, Sendable {
    /// `FrameTest` (one frame of each type and variants) or `SessionTest` (the worked example of PROTOCOL.md §11).
    var type: String
    var tests: [FrameVector]
}

struct FrameVector: Codable, Sendable {
    var tcId: Int
    var comment: String
    /// `agent→aggregator`, `aggregator→agent` or `either`.
    var direction: String
    /// The Swift case name, e.g. `hello`.
    var frameType: String
    /// The type byte, e.g. `0x01`.
    var typeByte: String
    /// The complete frame, length prefix included.
    var frame: String
    var fields: FrameFields
    var result: String
}

/// The decoded fields of a frame; only those of the frame's type are present.
struct FrameFields: Codable, Equatable, Sendable {
    var version: Int?
    var publicKey: String?
    var epoch: String?
    var agentTimeNanos: String?
    var agentName: String?
    var nonce: String?
    var aggregatorTimeNanos: String?
    var signature: String?
    var lastSequence: String?
    var lastBatchHash: String?
    var window: Int?
    var heartbeatIntervalSeconds: Int?
    var envelope: String?
    var sequence: String?
    var batchHash: String?
    var status: Int?
    var statusName: String?
    var timeNanos: String?
    var counters: [CounterVector]?
    var code: Int?
    var codeName: String?
    var message: String?
    /// ENROLL.
    var token: String?
    /// ROTATE: the record's fields and both signatures.
    var oldPublicKey: String?
    var oldEpoch: String?
    var oldHeadSequence: String?
    var oldHeadHash: String?
    var newPublicKey: String?
    var newEpoch: String?
    var oldSignature: String?
    var newSignature: String?

    struct CounterVector: Codable, Equatable, Sendable {
        var name: String
        var value: String
    }
}

// MARK: - batches.json

struct BatchGroup: Codable, Sendable {
    /// `BatchTest` (single batches) or `ChainTest` (consecutive batches of one epoch, in order).
    var type: String
    var privateKeySeed: String
    var publicKey: String
    var keyId: String
    var tests: [BatchVector]
}

struct BatchVector: Codable, Sendable {
    var tcId: Int
    var comment: String
    var epoch: String
    var sequence: String
    var previousHash: String
    var createdNanos: String
    var firstEventNanos: String
    var lastEventNanos: String
    var eventCount: Int
    var events: [EventVector]
    /// The uncompressed payload: the events encoded as PROTOCOL.md §6 says.
    var payload: String
    var uncompressedLength: Int
    /// One zlib stream; another zlib may compress differently, which is allowed.
    var compressedPayload: String
    var compressedLength: Int
    /// `FLIGHTLOG-BATCH-V1\0` followed by envelope bytes 0 ..< 124 + N.
    var signedMessage: String
    var signature: String
    var envelope: String
    /// SHA-256 of the whole envelope.
    var hash: String
    /// How the batch links to its predecessor in the group (`genesis`, `extends`), for chains.
    var chainLink: String?
    var result: String
}

struct EventVector: Codable, Equatable, Sendable {
    var timeNanos: String
    var observedNanos: String
    var flags: Int
    var host: String
    var source: String
    var lineHex: String
    /// The line as text, present only when it is valid UTF-8.
    var lineText: String?
    var fields: [FieldVector]

    struct FieldVector: Codable, Equatable, Sendable {
        var key: String
        var value: String
    }

    init(_ event: Event) {
        self.timeNanos = String(event.timeNanos)
        self.observedNanos = String(event.observedNanos)
        self.flags = Int(event.flags.rawValue)
        self.host = event.host
        self.source = event.source
        self.lineHex = event.line.hexString
        self.lineText = String(validating: event.line, as: UTF8.self)
        self.fields = event.fields.map { FieldVector(key: $0.key, value: $0.value) }
    }

    var event: Event? {
        guard let time = Int64(timeNanos), let observed = Int64(observedNanos), let line = [UInt8](hex: lineHex),
            let flagsByte = UInt8(exactly: flags)
        else { return nil }
        return Event(
            timeNanos: time,
            observedNanos: observed,
            flags: Event.Flags(rawValue: flagsByte),
            host: host,
            source: source,
            line: line,
            fields: fields.map { Event.Field($0.key, $0.value) }
        )
    }
}

// MARK: - handshake.json

struct ProofGroup: Codable, Sendable {
    var type: String
    var privateKeySeed: String
    var tests: [ProofVector]
}

struct ProofVector: Codable, Sendable {
    var tcId: Int
    var comment: String
    var nonce: String
    var publicKey: String
    var epoch: String
    /// `FLIGHTLOG-HANDSHAKE-V1\0 ‖ nonce ‖ public key ‖ epoch (u64 BE)`: 95 bytes.
    var message: String
    var signature: String
    var result: String
}

// MARK: - malformed.json

struct MalformedGroup: Codable, Sendable {
    /// `MalformedFrameTest`, `IncompleteFrameTest` or `MalformedBatchTest`.
    var type: String
    /// For batches: the session's agent key that the batch is checked against.
    var publicKey: String?
    var tests: [MalformedVector]
}

struct MalformedVector: Codable, Sendable {
    var tcId: Int
    var comment: String
    /// Bytes as received: a frame stream, or a batch envelope (the body of a `BATCH` frame).
    var input: String
    /// The `WireError` case the check fails with; absent for incomplete frames.
    var error: String?
    /// The `ErrorCode` an aggregator sends for it once the handshake is done (frames are decoded before the
    /// session state is looked at, so it is the same in every state but the one below); absent for incomplete
    /// frames.
    var errorCode: String?
    /// Frames: what the aggregator sends before WELCOME, when it differs (a length over
    /// `maxHandshakeFrameLength` is `frameTooLarge` there, PROTOCOL.md §3 rule 2).
    var errorCodeBeforeWelcome: String?
    /// Frames: what an agent sends (it answers a HELLO it cannot decode with `malformedFrame`, not the
    /// aggregator's HELLO codes).
    var agentErrorCode: String?
    /// Batches: the sequence the ERROR names (PROTOCOL.md §7.5), as a decimal string.
    var errorSequence: String?
    /// Incomplete streams: how many complete frames come before the receiver waits.
    var framesBefore: Int?
    var result: String
}
