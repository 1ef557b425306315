import Crypto
import FlightlogAggregator
import FlightlogStore
import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import NIOCore
import Testing

/// Frame bytes written field by field, so that any integer field can hold any value its width allows, whatever the
/// frame types' own initialisers would refuse.
struct RawFrame {
    var body: [UInt8] = []
    let type: UInt8

    init(_ type: UInt8) { self.type = type }

    mutating func u8(_ value: UInt8) { self.body.append(value) }
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.bigEndian) { self.body += $0 } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { self.body += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.bigEndian) { self.body += $0 } }
    mutating func i64(_ value: Int64) { self.u64(UInt64(bitPattern: value)) }
    mutating func bytes(_ value: some Sequence<UInt8>) { self.body += value }

    /// Length prefix (1 + body, or `length` when given), type byte, body.
    func framed(length: UInt32? = nil) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: (length ?? UInt32(1 + self.body.count)).bigEndian) { out += $0 }
        out.append(self.type)
        return out + self.body
    }
}

/// The integer values a field of each width is driven with: both ends, both sides of the sign bit, and the small
/// values next to zero.
enum Extreme {
    static let u16: [UInt16] = [0, 1, 2, 0x7fff, 0x8000, 0xfffe, 0xffff]
    static let u32: [UInt32] = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff]
    static let u64: [UInt64] = [0, 1, 2, 1 << 63 - 1, 1 << 63, 1 << 63 + 1, .max - 1, .max]
    static let i64: [Int64] = [.min, .min + 1, -1, 0, 1, .max - 1, .max]
}

/// A batch envelope (PROTOCOL.md §5) with every header field chosen by the test and a valid signature over it, so
/// that the aggregator's checks after the signature see the values.
struct RawBatch {
    var epoch: UInt64
    var sequence: UInt64
    var previousHash: Bytes32 = .zero
    var createdNanos: Int64 = 1_700_000_000_000_000_000
    var firstNanos: Int64? = nil
    var lastNanos: Int64? = nil
    var eventCount: UInt32? = nil
    var uncompressedLength: UInt32? = nil
    var compressedLength: UInt32? = nil
    var flags: UInt16 = 0
    var events: [Event]
    /// The payload as encoded, before compression; replaced when set (for event fields the encoder refuses).
    var payload: [UInt8]? = nil

    func envelope(signedBy key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        let payload = try self.payload ?? EventCodec.encode(self.events)
        let compressed = try Zlib.compress(payload)
        var header = RawFrame(0)
        header.bytes(SignedBatch.magic)
        header.u8(SignedBatch.formatVersion)
        header.u8(SignedBatch.Codec.zlib.rawValue)
        header.u16(self.flags)
        header.bytes(KeyID.of(key.publicKey).bytes)
        header.u64(self.epoch)
        header.u64(self.sequence)
        header.bytes(self.previousHash.bytes)
        header.i64(self.createdNanos)
        header.i64(self.firstNanos ?? self.events.map(\.timeNanos).min() ?? 0)
        header.i64(self.lastNanos ?? self.events.map(\.timeNanos).max() ?? 0)
        header.u32(self.eventCount ?? UInt32(self.events.count))
        header.u32(self.uncompressedLength ?? UInt32(payload.count))
        header.u32(self.compressedLength ?? UInt32(compressed.count))
        header.bytes(compressed)
        let signature = try key.signature(for: SignedBatch.signatureContext + header.body)
        return header.body + Array(signature)
    }
}

/// Drives the real session (a real `IngestServer` on loopback over a real SQLite file), handshake included, with
/// extreme values in every integer field of every frame type an agent can send (PROTOCOL.md §4), and checks that
/// each is answered as the spec says and that the server keeps serving. A trap anywhere in the session (for
/// example an overflow on the agent's clock) ends the whole test process, so reaching the end is part of the test.
@Suite("Extreme values in every integer field, through the real session")
struct ExtremeValueSessionTests {
    private static let time: Int64 = 1_700_000_000_000_000_000

    /// Sends raw bytes on a fresh connection and returns the server's frames until it closes (at most `limit`).
    private func exchange(_ port: Int, _ bytes: [UInt8], limit: Int = 4) async throws -> [Frame] {
        let connection = try await TestConnection.connect(port: port)
        defer { Task { await connection.close() } }
        try await connection.sendRaw(bytes)
        var frames: [Frame] = []
        while frames.count < limit, let frame = try await connection.receiveSkippingHeartbeats() {
            frames.append(frame)
        }
        return frames
    }

    private func hello(
        version: UInt16 = 1,
        key: Bytes32,
        epoch: UInt64,
        clock: Int64,
        name: [UInt8] = Array("ws".utf8),
        nameLength: UInt8? = nil
    ) -> RawFrame {
        var frame = RawFrame(FrameType.hello.rawValue)
        frame.bytes(Array("FLOG".utf8))
        frame.u16(version)
        frame.bytes(key.bytes)
        frame.u64(epoch)
        frame.i64(clock)
        frame.u8(nameLength ?? UInt8(name.count))
        frame.bytes(name)
        return frame
    }

    /// HELLO and then PROOF on one connection: the CHALLENGE's nonce is needed to sign the proof.
    private func handshake(
        _ port: Int,
        agent: TestAgent,
        epoch: UInt64,
        clock: Int64,
        version: UInt16 = 1,
        zeroProof: Bool = false
    ) async throws -> (TestConnection, Frame?) {
        let connection = try await TestConnection.connect(port: port)
        try await connection.sendRaw(
            self.hello(version: version, key: agent.publicKey, epoch: epoch, clock: clock).framed()
        )
        guard case .challenge(let challenge) = try await connection.receive() else {
            await connection.close()
            throw TestFailure("no CHALLENGE for clock \(clock), epoch \(epoch), version \(version)")
        }
        #expect(challenge.version == min(version, ProtocolVersion.current))
        let message = Handshake.proofMessage(nonce: challenge.nonce, publicKey: agent.publicKey, epoch: epoch)
        let signature = zeroProof ? [UInt8](repeating: 0, count: 64) : Array(try agent.key.signature(for: message))
        try await connection.send(.proof(Proof(signature: signature)))
        return (connection, try await connection.receiveSkippingHeartbeats())
    }

    // MARK: - HELLO and PROOF, before any key is proved

    @Test func anyAgentClockAndEpochInHelloIsAnsweredAndNeverStopsTheServer() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-clock")
        let stranger = TestAgent(name: "ws-stranger")
        try await withServer(database: dir.file("db.sqlite")) { port, store, metrics in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            for clock in Extreme.i64 {
                // The reported crash: any clock far from the server's, then any PROOF, even 64 zero bytes from a
                // key nobody enrolled.
                let (refused, reply) = try await self.handshake(
                    port,
                    agent: stranger,
                    epoch: 1,
                    clock: clock,
                    zeroProof: true
                )
                #expect(errorCode(reply) == .badProof, "clock \(clock)")
                await refused.close()
                for epoch in Extreme.u64 {
                    let (connection, welcome) = try await self.handshake(port, agent: agent, epoch: epoch, clock: clock)
                    guard case .welcome(let welcome) = welcome else {
                        Issue.record("no WELCOME for clock \(clock), epoch \(epoch): \(String(describing: welcome))")
                        await connection.close()
                        continue
                    }
                    #expect(welcome.epoch == epoch)
                    await connection.close()
                }
            }
            #expect(metrics["handshakes_accepted"] == Int64(Extreme.i64.count * Extreme.u64.count))
        }
        // Skew is recorded, saturated at the ends of i64 rather than wrapped.
        let skews = try await SQLiteShellRows.int64s(
            dir.file("db.sqlite"),
            "SELECT skew_ns FROM handshakes WHERE outcome = 'accepted' AND skew_ns IS NOT NULL ORDER BY id"
        )
        #expect(skews.count == Extreme.i64.count * Extreme.u64.count)
        #expect(skews.first == Int64.min)
        #expect(skews.last ?? 0 > Int64.max / 2)
    }

    @Test func everyHelloVersionAndNameLengthIsAnsweredAsSpecified() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let key = TestAgent(name: "x").publicKey
        try await withServer(database: dir.file("db.sqlite")) { port, _, _ in
            for version in Extreme.u16 {
                let frames = try await self.exchange(
                    port,
                    self.hello(version: version, key: key, epoch: 1, clock: 0).framed(),
                    limit: 1
                )
                if version == 0 {
                    #expect(errorCode(frames.first) == .unsupportedVersion, "version 0")
                } else if case .challenge(let challenge) = frames.first {
                    #expect(challenge.version == min(version, ProtocolVersion.current), "version \(version)")
                } else {
                    Issue.record("version \(version): \(frames)")
                }
            }
            // A name length that disagrees with the body: short or past it.
            for length: UInt8 in [0, 1, 3, 255] {
                let frames = try await self.exchange(
                    port,
                    self.hello(key: key, epoch: 1, clock: 0, nameLength: length).framed()
                )
                #expect(errorCode(frames.first) == .malformedFrame, "name length \(length)")
            }
        }
    }

    @Test func frameLengthFieldsAtTheirExtremesAreRefusedWithoutAllocating() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        try await withServer(database: dir.file("db.sqlite")) { port, _, _ in
            let expected: [(UInt32, ErrorCode)] = [
                (0, .malformedFrame), (0x7fff_ffff, .frameTooLarge), (0x8000_0000, .frameTooLarge),
                (0xffff_fffe, .frameTooLarge), (0xffff_ffff, .frameTooLarge),
                (UInt32(WireLimits.maxFrameLength) + 1, .frameTooLarge),
                (UInt32(WireLimits.maxHandshakeFrameLength) + 1, .frameTooLarge),
            ]
            for (length, code) in expected {
                let frames = try await self.exchange(port, RawFrame(FrameType.hello.rawValue).framed(length: length))
                #expect(errorCode(frames.first) == code, "length \(length)")
            }
        }
    }

    // MARK: - Every frame type in the session, after WELCOME

    /// What the aggregator does with a frame after WELCOME.
    private enum Reply: Equatable {
        /// Ignores it; the session goes on.
        case continues
        /// Closes without a word (the agent's ERROR, §4.8).
        case closes
        /// Answers GOODBYE and closes (the agent's GOODBYE, §7.7).
        case goodbye
        /// Answers this ERROR and closes.
        case error(ErrorCode)
    }

    /// The frames an agent may send after WELCOME (HEARTBEAT, ERROR, GOODBYE) and the ones only the aggregator
    /// sends (CHALLENGE, WELCOME, ACK), each with every extreme in each integer field.
    private static func sessionFrames() -> [(String, [UInt8], Reply)] {
        var cases: [(String, [UInt8], Reply)] = []
        for time in Extreme.i64 {
            for value in Extreme.u64 {
                var heartbeat = RawFrame(FrameType.heartbeat.rawValue)
                heartbeat.i64(time)
                heartbeat.u8(1)
                heartbeat.u8(5)
                heartbeat.bytes(Array("drops".utf8))
                heartbeat.u64(value)
                cases.append(("HEARTBEAT time \(time) counter \(value)", heartbeat.framed(), .continues))
            }
        }
        for count: UInt8 in [64, 65, 255] {
            var heartbeat = RawFrame(FrameType.heartbeat.rawValue)
            heartbeat.i64(0)
            heartbeat.u8(count)
            for index in 0..<Int(count) {
                let name = Array("c\(index)".utf8)
                heartbeat.u8(UInt8(name.count))
                heartbeat.bytes(name)
                heartbeat.u64(.max)
            }
            cases.append(
                ("HEARTBEAT \(count) counters", heartbeat.framed(), count <= 64 ? .continues : .error(.malformedFrame))
            )
        }
        for nameLength: UInt8 in [0, 64, 65, 255] {
            var heartbeat = RawFrame(FrameType.heartbeat.rawValue)
            heartbeat.i64(0)
            heartbeat.u8(1)
            heartbeat.u8(nameLength)
            heartbeat.bytes([UInt8](repeating: 0x61, count: Int(nameLength)))
            heartbeat.u64(1)
            cases.append(
                (
                    "HEARTBEAT counter name \(nameLength)", heartbeat.framed(),
                    nameLength <= 64 ? .continues : .error(.malformedFrame)
                )
            )
        }
        for code in Extreme.u16 + [20, 21] {
            for sequence in Extreme.u64 {
                var error = RawFrame(FrameType.error.rawValue)
                error.u16(code)
                error.u64(sequence)
                error.u16(2)
                error.bytes(Array("no".utf8))
                // Every ERROR ends the session; the aggregator closes and answers nothing.
                cases.append(("ERROR \(code) sequence \(sequence)", error.framed(), .closes))
            }
        }
        for length in Extreme.u16 {
            var error = RawFrame(FrameType.error.rawValue)
            error.u16(1)
            error.u64(0)
            error.u16(length)
            error.bytes(Array("x".utf8))
            cases.append(
                ("ERROR message length \(length)", error.framed(), length == 1 ? .closes : .error(.malformedFrame))
            )
            var goodbye = RawFrame(FrameType.goodbye.rawValue)
            goodbye.u16(length)
            goodbye.bytes(Array("x".utf8))
            cases.append(
                ("GOODBYE message length \(length)", goodbye.framed(), length == 1 ? .goodbye : .error(.malformedFrame))
            )
        }
        for version in Extreme.u16 {
            for time in Extreme.i64 {
                var challenge = RawFrame(FrameType.challenge.rawValue)
                challenge.u16(version)
                challenge.bytes([UInt8](repeating: 7, count: 32))
                challenge.i64(time)
                cases.append(("CHALLENGE \(version) \(time)", challenge.framed(), .error(.unexpectedFrame)))
            }
        }
        for window in Extreme.u16 {
            for interval: UInt16 in [0, 1, 0xffff] {
                var welcome = RawFrame(FrameType.welcome.rawValue)
                welcome.u64(.max)
                welcome.u64(.max)
                welcome.bytes([UInt8](repeating: 0, count: 32))
                welcome.u16(window)
                welcome.u16(interval)
                welcome.i64(.min)
                let valid = (1...1024).contains(window) && interval >= 1
                cases.append(
                    (
                        "WELCOME window \(window) interval \(interval)", welcome.framed(),
                        valid ? .error(.unexpectedFrame) : .error(.malformedFrame)
                    )
                )
            }
        }
        for status: UInt8 in [0, 1, 2, 0x7f, 0x80, 0xff] {
            for value in Extreme.u64 {
                var ack = RawFrame(FrameType.ack.rawValue)
                ack.u64(value)
                ack.u64(value)
                ack.bytes([UInt8](repeating: 0, count: 32))
                ack.u8(status)
                cases.append(
                    (
                        "ACK status \(status) \(value)", ack.framed(),
                        status <= 1 ? .error(.unexpectedFrame) : .error(.malformedFrame)
                    )
                )
            }
        }
        for type in [UInt8](0...255) where FrameType(rawValue: type) == nil {
            cases.append(("type \(type)", RawFrame(type).framed(), .error(.malformedFrame)))
        }
        return cases
    }

    @Test func everyIntegerFieldOfEveryOtherFrameAfterWelcome() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-frames", epoch: .max)
        let cases = Self.sessionFrames()
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            for (name, bytes, expected) in cases {
                let (connection, _) = try await agent.open(port: port)
                try await connection.sendRaw(bytes)
                switch expected {
                case .continues:
                    // Accepted and ignored: the session goes on, so a GOODBYE is answered by one.
                    try await connection.send(.goodbye(Goodbye(message: "done")))
                    let reply = try await connection.receiveSkippingHeartbeats()
                    #expect(reply == .goodbye(Goodbye(message: "closing")), "\(name)")
                case .closes:
                    #expect(try await connection.receiveSkippingHeartbeats() == nil, "\(name)")
                case .goodbye:
                    let reply = try await connection.receiveSkippingHeartbeats()
                    #expect(reply == .goodbye(Goodbye(message: "closing")), "\(name)")
                case .error(let code):
                    let reply = try await connection.receiveSkippingHeartbeats()
                    #expect(errorCode(reply) == code, "\(name): \(String(describing: reply))")
                }
                try await connection.waitClosed()
            }
            // The server still serves a well-behaved agent.
            let (connection, welcome) = try await agent.open(port: port)
            #expect(welcome.lastSequence == 0)
            await connection.close()
        }
    }

    // MARK: - BATCH header and event fields

    /// How a test batch names its predecessor.
    private enum Link {
        /// Any previous hash: a gap, a late batch or a refused one, where the chain rule does not look at it.
        case free
        /// The hash of the batch at the head, so that it extends the chain.
        case head
        /// The very bytes already stored for this sequence: a resend.
        case resend
    }

    /// Each batch with the reply the spec asks for: an ACK status, or an ERROR code (PROTOCOL.md §5, §7.5, §8).
    private static func batches(epoch: UInt64) -> [(String, RawBatch, Link, Ack.Status?, ErrorCode?)] {
        let event = Event(
            timeNanos: Self.time,
            observedNanos: Self.time,
            host: "ws",
            source: "/var/log/auth.log",
            line: Array("extreme".utf8),
            fields: []
        )
        func plain(_ sequence: UInt64) -> RawBatch { RawBatch(epoch: epoch, sequence: sequence, events: [event]) }
        var cases: [(String, RawBatch, Link, Ack.Status?, ErrorCode?)] = []
        // Sequences across the sign bit of SQLite's integers, as a chain with gaps, a late batch and a resend.
        cases.append(("sequence 0", plain(0), .free, nil, .malformedBatch))
        cases.append(("sequence 2^63-1 (gap)", plain(1 << 63 - 1), .free, .stored, nil))
        cases.append(("sequence 2^63 (extends)", plain(1 << 63), .head, .stored, nil))
        cases.append(("sequence 2^63+1 (extends)", plain(1 << 63 + 1), .head, .stored, nil))
        cases.append(("sequence 2^63+2 (broken link)", plain(1 << 63 + 2), .free, nil, .chainBroken))
        cases.append(("sequence 2^64-2 (gap)", plain(.max - 1), .free, .stored, nil))
        cases.append(("sequence 2 (late)", plain(2), .free, .stored, nil))
        cases.append(("sequence 2^63 (resend)", plain(1 << 63), .resend, .duplicate, nil))
        var other = plain(1 << 63)
        other.createdNanos = 1
        cases.append(("sequence 2^63 with other bytes", other, .free, nil, .equivocation))
        cases.append(("sequence 2^64-1 (extends)", plain(.max), .head, .stored, nil))
        cases.append(("sequence 2^64-1 (resend)", plain(.max), .resend, .duplicate, nil))
        // Times anywhere in i64, in the header and in events (late batches below the head).
        for (index, time) in Extreme.i64.enumerated() {
            let batch = RawBatch(
                epoch: epoch,
                sequence: UInt64(3 + index),
                createdNanos: time,
                events: [
                    Event(
                        timeNanos: time,
                        observedNanos: Extreme.i64[Extreme.i64.count - 1 - index],
                        host: "ws",
                        source: "s",
                        line: Array("t \(time)".utf8),
                        fields: []
                    )
                ]
            )
            cases.append(("times \(time)", batch, .free, .stored, nil))
        }
        var wide = RawBatch(
            epoch: epoch,
            sequence: 20,
            events: [
                Event(timeNanos: .min, observedNanos: .max, host: "a", source: "s", line: [1], fields: []),
                Event(timeNanos: .max, observedNanos: .min, host: "b", source: "s", line: [2], fields: []),
            ]
        )
        cases.append(("event times min and max in one batch", wide, .free, .stored, nil))
        wide.sequence = 21
        wide.firstNanos = .max
        wide.lastNanos = .min
        cases.append(("first time after last", wide, .free, nil, .malformedBatch))
        // Counts and lengths: every one outside what the payload holds is refused, none is trusted for memory.
        for count in Extreme.u32 where count != 1 {
            var batch = plain(30)
            batch.eventCount = count
            cases.append(("event count \(count)", batch, .free, nil, .malformedBatch))
        }
        for length in Extreme.u32 {
            var batch = plain(31)
            batch.uncompressedLength = length
            cases.append(("uncompressed length \(length)", batch, .free, nil, .malformedBatch))
            batch.uncompressedLength = nil
            batch.compressedLength = length
            cases.append(("compressed length \(length)", batch, .free, nil, .malformedBatch))
        }
        for flags in Extreme.u16 where flags != 0 {
            var batch = plain(32)
            batch.flags = flags
            cases.append(("flags \(flags)", batch, .free, nil, .malformedBatch))
        }
        // Event fields the encoder refuses: flag bits, host, source, line and field lengths.
        let eventFields: [(String, (inout RawFrame) -> Void)] = [
            (
                "event flags 0xff",
                { p in
                    p.u8(0xff)
                    p.u8(0)
                    p.u16(0)
                    p.u32(0)
                    p.u8(0)
                }
            ),
            (
                "host length 255, 0 bytes",
                { p in
                    p.u8(0)
                    p.u8(255)
                }
            ),
            (
                "source length 0xffff",
                { p in
                    p.u8(0)
                    p.u8(0)
                    p.u16(0xffff)
                }
            ),
            (
                "line length 2^32-1",
                { p in
                    p.u8(0)
                    p.u8(0)
                    p.u16(0)
                    p.u32(.max)
                }
            ),
            (
                "field count 255",
                { p in
                    p.u8(0)
                    p.u8(0)
                    p.u16(0)
                    p.u32(0)
                    p.u8(255)
                }
            ),
        ]
        for (what, build) in eventFields {
            var payload = RawFrame(0)
            payload.i64(Self.time)
            payload.i64(Self.time)
            build(&payload)
            var batch = plain(34)
            batch.payload = payload.body
            cases.append((what, batch, .free, nil, .malformedBatch))
        }
        return cases
    }

    @Test(arguments: [UInt64(1), 1 << 63, .max])
    func everyIntegerFieldOfABatchIsAnsweredAsSpecified(epoch: UInt64) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-batches", epoch: epoch)
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            var stored: [UInt64: [UInt8]] = [:]
            var head = Bytes32.zero
            for (name, batch, link, status, code) in Self.batches(epoch: epoch) {
                var batch = batch
                if link == .head { batch.previousHash = head }
                let envelope =
                    link == .resend ? stored[batch.sequence] ?? [] : try batch.envelope(signedBy: agent.key)
                let (connection, _) = try await agent.open(port: port)
                try await connection.send(.batch(ByteBuffer(bytes: envelope)))
                let reply = try await connection.receiveSkippingHeartbeats()
                if let status {
                    guard case .ack(let ack) = reply else {
                        Issue.record("\(name): expected ACK \(status), got \(String(describing: reply))")
                        await connection.close()
                        continue
                    }
                    #expect(ack.status == status, "\(name)")
                    #expect(ack.sequence == batch.sequence, "\(name)")
                    #expect(ack.epoch == epoch, "\(name)")
                    if status == .stored { stored[batch.sequence] = envelope }
                    if link == .head || name.hasSuffix("(gap)") { head = ack.batchHash }
                    await connection.close()
                } else {
                    #expect(errorCode(reply) == code, "\(name): \(String(describing: reply))")
                    try await connection.waitClosed()
                }
            }
            // A batch of another epoch on this session, with an extreme epoch.
            let (connection, _) = try await agent.open(port: port)
            let foreign = try RawBatch(epoch: epoch &+ 1, sequence: 1, events: agent.events(1, prefix: "x"))
                .envelope(signedBy: agent.key)
            try await connection.send(.batch(ByteBuffer(bytes: foreign)))
            #expect(errorCode(try await connection.receiveSkippingHeartbeats()) == .wrongEpoch)
            try await connection.waitClosed()
            // The resume point is the unsigned head, and the session still works.
            let (again, welcome) = try await agent.open(port: port)
            #expect(welcome.lastSequence == .max)
            #expect(welcome.lastBatchHash == head)
            await again.close()
        }
    }
}

extension Bytes32 {
    init(repeating byte: UInt8) {
        self = Bytes32([UInt8](repeating: byte, count: 32)) ?? .zero
    }
}

/// Reads integers from a SQLite file, read-only, with GRDB.
enum SQLiteShellRows {
    static func int64s(_ path: String, _ sql: String) async throws -> [Int64] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try await queue.read { db in try Int64.fetchAll(db, sql: sql) }
    }
}
