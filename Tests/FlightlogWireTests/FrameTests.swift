import FlightlogWire
import NIOCore
import Testing

/// Every frame type, encoded and decoded (PROTOCOL.md §3–4).
struct FrameTests {
    /// One frame of every type, with non-trivial values in every field.
    static let samples: [Frame] = [
        .hello(
            Hello(
                publicKey: Fixtures.agentPublicKey,
                epoch: Fixtures.epoch,
                agentTimeNanos: Fixtures.baseTime,
                agentName: Fixtures.agentName
            )
        ),
        .hello(Hello(version: 7, publicKey: .zero, epoch: 0, agentTimeNanos: -1, agentName: "")),
        .challenge(Challenge(nonce: Fixtures.nonce, aggregatorTimeNanos: Fixtures.baseTime + 42)),
        .proof(Proof(signature: Array(0..<64))),
        .welcome(
            Welcome(
                epoch: Fixtures.epoch,
                lastSequence: 41,
                lastBatchHash: Fixtures.nonce,
                window: 64,
                heartbeatIntervalSeconds: 15,
                aggregatorTimeNanos: Fixtures.baseTime
            )
        ),
        .welcome(
            Welcome(
                epoch: .max,
                lastSequence: 0,
                lastBatchHash: .zero,
                window: UInt16(WireLimits.maxWindow),
                heartbeatIntervalSeconds: 1,
                aggregatorTimeNanos: .min
            )
        ),
        .batch(ByteBuffer(bytes: [1, 2, 3])),
        .ack(Ack(epoch: Fixtures.epoch, sequence: 1, batchHash: Fixtures.nonce, status: .stored)),
        .ack(Ack(epoch: 0, sequence: .max, batchHash: .zero, status: .duplicate)),
        .heartbeat(Heartbeat(timeNanos: Fixtures.baseTime)),
        .heartbeat(
            Heartbeat(
                timeNanos: Fixtures.baseTime,
                counters: [.init(name: "lines_read", value: 1234), .init(name: "drops", value: .max)]
            )
        ),
        .error(ErrorMessage(code: .chainBroken, sequence: 7, message: "previous hash does not match")),
        .error(ErrorMessage(code: .serverBusy, message: "")),
        .goodbye(Goodbye(message: "agent stopping")),
        .goodbye(Goodbye(message: "ünïcödé ✓")),
        .enroll(Enroll(token: "flt1_abcdefghijklmnopqrstuvwxyz234567", signature: Array(64..<128))),
        .enroll(Enroll(token: String(repeating: "~", count: WireLimits.maxTokenLength), signature: Array(0..<64))),
        .enrolled(Enrolled(agentName: "cc-ws-602")),
        .rotate(
            RotationRecord(
                oldPublicKey: Fixtures.agentPublicKey,
                oldEpoch: .max,
                oldHeadSequence: 0,
                oldHeadHash: .zero,
                newPublicKey: Fixtures.nonce,
                newEpoch: 1,
                timeNanos: .min,
                oldSignature: Array(0..<64),
                newSignature: Array(64..<128)
            )
        ),
        .rotated(Rotated(newPublicKey: Fixtures.nonce, newEpoch: .max)),
    ]

    @Test("every frame type has a sample")
    func samplesCoverEveryType() {
        #expect(Set(Self.samples.map(\.type)) == Set(FrameType.allCases))
    }

    @Test("encode then decode gives the same frame", arguments: samples)
    func roundTrip(frame: Frame) throws {
        var buffer = frame.encoded
        let length = try #require(buffer.getInteger(at: 0, endianness: .big, as: UInt32.self))
        #expect(Int(length) == buffer.readableBytes - 4)
        #expect(buffer.getInteger(at: 4, as: UInt8.self) == frame.type.rawValue)
        var parser = FrameParser()
        #expect(try parser.nextFrame(buffer: &buffer) == frame)
        #expect(buffer.readableBytes == 0)
    }

    @Test("HELLO is laid out as PROTOCOL.md §4.1 says")
    func helloLayout() {
        let hello = Hello(
            publicKey: Bytes32(Array(repeating: 0xaa, count: 32))!,
            epoch: 0x0102_0304_0506_0708,
            agentTimeNanos: 0x1112_1314_1516_1718,
            agentName: "ab"
        )
        let expected: [UInt8] =
            [0, 0, 0, 58, 0x01] + Array("FLOG".utf8) + [0, 2] + Array(repeating: 0xaa, count: 32)
            + [1, 2, 3, 4, 5, 6, 7, 8] + [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18] + [2, 0x61, 0x62]
        #expect(Array(Frame.hello(hello).encoded.readableBytesView) == expected)
    }

    @Test("ERROR keeps codes it does not know, so newer peers are logged faithfully")
    func unknownErrorCode() throws {
        var body: [UInt8] = [0x03, 0xe7] + [0, 0, 0, 0, 0, 0, 0, 5] + [0, 1, 0x78]
        var buffer = ByteBuffer(bytes: Fixtures.frame(type: 0x30, body: body))
        var parser = FrameParser()
        guard case .error(let error) = try parser.nextFrame(buffer: &buffer) else {
            Issue.record("not an ERROR frame")
            return
        }
        #expect(error.rawCode == 999)
        #expect(error.code == nil)
        #expect(error.sequence == 5)
        #expect(error.message == "x")
        body[0] = 0x00
        body[1] = 0x0b
        var known = ByteBuffer(bytes: Fixtures.frame(type: 0x30, body: body))
        guard case .error(let knownError) = try parser.nextFrame(buffer: &known) else {
            Issue.record("not an ERROR frame")
            return
        }
        #expect(knownError.code == .chainBroken)
    }

    @Test("overlong strings are cut on a character boundary when encoding")
    func truncatesStrings() throws {
        let long = String(repeating: "é", count: 600)  // 1200 bytes
        let goodbye = Goodbye(message: long)
        #expect(goodbye.message.utf8.count == WireLimits.maxMessageLength)
        let error = ErrorMessage(code: .internalError, message: long)
        #expect(error.message.utf8.count == WireLimits.maxMessageLength)
        let hello = Hello(publicKey: .zero, epoch: 1, agentTimeNanos: 0, agentName: long)
        var buffer = Frame.hello(hello).encoded
        var parser = FrameParser()
        guard case .hello(let decoded) = try parser.nextFrame(buffer: &buffer) else {
            Issue.record("not a HELLO frame")
            return
        }
        #expect(decoded.agentName == String(repeating: "é", count: 127))
        let counters = (0..<100).map { Heartbeat.Counter(name: String(repeating: "c", count: 100) + "\($0)", value: 1) }
        var heartbeat = Frame.heartbeat(Heartbeat(timeNanos: 0, counters: counters)).encoded
        guard case .heartbeat(let decodedHeartbeat) = try parser.nextFrame(buffer: &heartbeat) else {
            Issue.record("not a HEARTBEAT frame")
            return
        }
        #expect(decodedHeartbeat.counters.count == WireLimits.maxHeartbeatCounters)
        #expect(decodedHeartbeat.counters.allSatisfy { $0.name.utf8.count == WireLimits.maxCounterNameLength })
    }

    // MARK: - Bodies that must be refused

    /// Decodes one frame from `bytes`, which must hold exactly one complete frame.
    static func decode(_ bytes: [UInt8]) throws(WireError) -> Frame? {
        var buffer = ByteBuffer(bytes: bytes)
        var parser = FrameParser()
        return try parser.nextFrame(buffer: &buffer)
    }

    static var helloBody: [UInt8] {
        Array(
            Frame.hello(Hello(publicKey: .zero, epoch: 1, agentTimeNanos: 2, agentName: "n")).encoded.readableBytesView
        )
        .dropFirst(5).map { $0 }
    }

    @Test func badMagic() {
        var body = Self.helloBody
        body[0] = UInt8(ascii: "X")
        #expect(throws: WireError.badMagic(what: "HELLO")) { try Self.decode(Fixtures.frame(type: 0x01, body: body)) }
    }

    @Test func versionZero() {
        var body = Self.helloBody
        body[5] = 0
        #expect(throws: WireError.unsupportedVersion(what: "protocol", version: 0)) {
            try Self.decode(Fixtures.frame(type: 0x01, body: body))
        }
    }

    @Test func invalidUTF8Name() {
        var body = Self.helloBody
        body[body.count - 1] = 0xc3
        #expect(throws: WireError.invalidUTF8(what: "HELLO agent name")) {
            try Self.decode(Fixtures.frame(type: 0x01, body: body))
        }
    }

    @Test func trailingBytes() {
        #expect(throws: WireError.trailingBytes(what: "hello frame", count: 1)) {
            try Self.decode(Fixtures.frame(type: 0x01, body: Self.helloBody + [0]))
        }
        #expect(throws: WireError.trailingBytes(what: "proof frame", count: 1)) {
            try Self.decode(Fixtures.frame(type: 0x03, body: Array(repeating: 0, count: 65)))
        }
    }

    @Test func truncatedBody() {
        #expect(throws: WireError.truncated(what: "HELLO agent name")) {
            try Self.decode(Fixtures.frame(type: 0x01, body: Self.helloBody.dropLast()))
        }
        #expect(throws: WireError.truncated(what: "PROOF signature")) {
            try Self.decode(Fixtures.frame(type: 0x03, body: Array(repeating: 0, count: 63)))
        }
        #expect(throws: WireError.truncated(what: "HELLO magic")) {
            try Self.decode(Fixtures.frame(type: 0x01, body: []))
        }
    }

    @Test func unknownFrameType() {
        for type in UInt8.min...UInt8.max where FrameType(rawValue: type) == nil {
            #expect(throws: WireError.unknownFrameType(type)) { try Self.decode(Fixtures.frame(type: type, body: [])) }
        }
    }

    @Test func badWelcomeValues() {
        func welcome(window: UInt16, heartbeat: UInt16) -> [UInt8] {
            let frame = Frame.welcome(
                Welcome(
                    epoch: 1,
                    lastSequence: 0,
                    lastBatchHash: .zero,
                    window: window,
                    heartbeatIntervalSeconds: heartbeat,
                    aggregatorTimeNanos: 0
                )
            )
            return Array(frame.encoded.readableBytesView)
        }
        #expect(throws: WireError.invalidValue(what: "WELCOME window", value: 0)) {
            try Self.decode(welcome(window: 0, heartbeat: 15))
        }
        #expect(throws: WireError.invalidValue(what: "WELCOME window", value: 1025)) {
            try Self.decode(welcome(window: 1025, heartbeat: 15))
        }
        #expect(throws: WireError.invalidValue(what: "WELCOME heartbeat interval", value: 0)) {
            try Self.decode(welcome(window: 64, heartbeat: 0))
        }
        #expect(throws: Never.self) { try Self.decode(welcome(window: 1024, heartbeat: 1)) }
    }

    @Test func badAckStatus() {
        var frame = Array(
            Frame.ack(Ack(epoch: 1, sequence: 1, batchHash: .zero, status: .stored)).encoded.readableBytesView
        )
        frame[frame.count - 1] = 2
        #expect(throws: WireError.invalidValue(what: "ACK status", value: 2)) { try Self.decode(frame) }
    }

    @Test func tooManyCounters() {
        let body: [UInt8] = Array(repeating: 0, count: 8) + [65] + Array(repeating: 0, count: 65 * 9)
        #expect(throws: WireError.lengthExceedsLimit(what: "HEARTBEAT counter count", length: 65, limit: 64)) {
            try Self.decode(Fixtures.frame(type: 0x20, body: body))
        }
    }

    @Test func messageTooLong() {
        let body: [UInt8] = [0, 0x01, 0x04, 0x01] + Array(repeating: 0x61, count: 1025)
        #expect(throws: WireError.lengthExceedsLimit(what: "GOODBYE message", length: 1025, limit: 1024)) {
            try Self.decode(Fixtures.frame(type: 0x31, body: Array(body.dropFirst(2))))
        }
        let counterName: [UInt8] =
            Array(repeating: 0, count: 8) + [1, 65] + Array(repeating: 0x61, count: 65) + Array(repeating: 0, count: 8)
        #expect(throws: WireError.lengthExceedsLimit(what: "HEARTBEAT counter name", length: 65, limit: 64)) {
            try Self.decode(Fixtures.frame(type: 0x20, body: counterName))
        }
    }
}
