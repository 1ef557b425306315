import Crypto
import FlightlogWire
import Foundation
import NIOCore

/// Fixed keys, nonces, times and events shared by the tests and the test vectors (PROTOCOL.md §12).
enum Fixtures {
    /// The agent key seed of every vector: the 32 bytes 0x00, 0x01, …, 0x1f.
    static let agentSeed: [UInt8] = Array(0x00...0x1f)
    /// A second agent's seed (0x20 … 0x3f), for key-mismatch cases.
    static let otherSeed: [UInt8] = Array(0x20...0x3f)
    /// The aggregator's nonce of every vector: the 32 bytes 0xa0, 0xa1, …, 0xbf.
    static let nonce = Bytes32(Array(0xa0...0xbf))!

    static let agentKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: agentSeed)
    static let otherKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: otherSeed)
    static var agentPublicKey: Bytes32 { Bytes32(agentKey.publicKey.rawRepresentation)! }
    static var agentKeyID: Bytes32 { KeyID.of(agentKey.publicKey) }

    /// An epoch that uses all eight bytes, so that a 53-bit JSON number would lose it.
    static let epoch: UInt64 = 0x0123_4567_89ab_cdef
    /// 2026-11-26T09:00:00Z in ns since the Unix epoch.
    static let baseTime: Int64 = 1_795_683_600_000_000_000
    static let agentName = "cc-ws-602"

    /// Three events that exercise every field: parsed fields, the time flag, a repeated host and source, a line that
    /// is not UTF-8, an event earlier than its predecessor.
    static let events: [Event] = [
        Event(
            timeNanos: baseTime + 1_000_000,
            observedNanos: baseTime + 1_500_000,
            flags: .timeFromLine,
            host: "cc-ws-602",
            source: "/var/log/auth.log",
            line: Array("Nov 26 09:00:00 cc-ws-602 sshd[812]: Accepted password for mchen from 203.0.113.77".utf8),
            fields: [
                Event.Field("program", "sshd"), Event.Field("pid", "812"), Event.Field("user", "mchen"),
                Event.Field("src_ip", "203.0.113.77"),
            ]
        ),
        Event(
            timeNanos: baseTime + 500_000,
            observedNanos: baseTime + 1_600_000,
            flags: [],
            host: "cc-ws-602",
            source: "/var/log/auth.log",
            line: [0x62, 0x69, 0x6e, 0xff, 0xfe, 0x00, 0x0a],
            fields: []
        ),
        Event(
            timeNanos: baseTime + 2_000_000,
            observedNanos: baseTime + 2_100_000,
            flags: .timeFromLine,
            host: "cc-ws-602",
            source: "/var/log/app/crm.jsonl",
            line: Array(#"{"ts":"2026-11-26T09:00:00.002Z","user":"mchen","action":"export","rows":4711}"#.utf8),
            fields: [Event.Field("user", "mchen"), Event.Field("action", "export"), Event.Field("rows", "4711")]
        ),
    ]

    /// One event for the chain's later batches.
    static func event(_ n: Int) -> Event {
        Event(
            timeNanos: baseTime + Int64(n) * 1_000_000_000,
            observedNanos: baseTime + Int64(n) * 1_000_000_000 + 1000,
            host: "cc-ws-602",
            source: "/var/log/syslog",
            line: Array("line \(n) — ünïcödé".utf8),
            fields: [Event.Field("n", "\(n)")]
        )
    }

    /// A batch of `events` signed by `key`.
    static func batch(
        _ events: [Event] = Fixtures.events,
        sequence: UInt64 = 1,
        previousHash: Bytes32 = .zero,
        epoch: UInt64 = Fixtures.epoch,
        key: Curve25519.Signing.PrivateKey = Fixtures.agentKey
    ) throws -> SignedBatch {
        let header = BatchHeader(
            keyID: KeyID.of(key.publicKey),
            epoch: epoch,
            sequence: sequence,
            previousHash: previousHash,
            createdNanos: baseTime + 3_000_000_000,
            events: events
        )
        return try SignedBatch.build(events: events, header: header, signingKey: key)
    }

    /// `body` prefixed with its length and `type` byte: a frame as it travels.
    static func frame(type: UInt8, body: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(1 + body.count), endianness: .big)
        buffer.writeInteger(type)
        buffer.writeBytes(body)
        return Array(buffer.readableBytesView)
    }

    /// Replaces the signature at the end of `envelope` with a valid one by `key`, so that later checks are reached.
    static func resign(_ envelope: [UInt8], key: Curve25519.Signing.PrivateKey = Fixtures.agentKey) throws -> [UInt8] {
        let signed = Array(envelope.dropLast(SignedBatch.signatureLength))
        return signed + Array(try key.signature(for: SignedBatch.signatureContext + signed))
    }
}

/// The case name of a `WireError`, as the vectors spell it.
extension WireError {
    var caseName: String {
        switch self {
        case .truncated: "truncated"
        case .lengthExceedsLimit: "lengthExceedsLimit"
        // The vectors were written when a frame length past the limit was one more `lengthExceedsLimit`; it has its
        // own case now, so that the code it is answered with is chosen without reading its text, and the vectors
        // keep their spelling (PROTOCOL.md §12).
        case .frameTooLarge: "lengthExceedsLimit"
        case .lengthMismatch: "lengthMismatch"
        case .unknownFrameType: "unknownFrameType"
        case .badMagic: "badMagic"
        case .unsupportedVersion: "unsupportedVersion"
        case .trailingBytes: "trailingBytes"
        case .invalidUTF8: "invalidUTF8"
        case .invalidValue: "invalidValue"
        case .badSignature: "badSignature"
        case .keyMismatch: "keyMismatch"
        case .corruptCompression: "corruptCompression"
        case .inflatedLengthMismatch: "inflatedLengthMismatch"
        case .unknownCodec: "unknownCodec"
        }
    }
}

/// The repository's `protocol/` directory, found by walking up from this file (vectors are not test resources).
enum ProtocolDirectory {
    static let url: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("protocol", isDirectory: true)
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("PROTOCOL.md").path) {
                return candidate
            }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("protocol", isDirectory: true)
    }()

    static var vectors: URL { url.appendingPathComponent("vectors", isDirectory: true) }
    static var sources: URL {
        url.deletingLastPathComponent().appendingPathComponent("Sources/FlightlogWire", isDirectory: true)
    }

    /// Whether this run regenerates the vectors instead of checking them.
    static var writing: Bool { ProcessInfo.processInfo.environment["FLIGHTLOG_WRITE_VECTORS"] == "1" }
}
