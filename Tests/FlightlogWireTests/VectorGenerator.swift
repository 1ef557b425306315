import Crypto
import FlightlogWire
import Foundation
import NIOCore

/// Builds every test vector from the fixed key and nonce of ``Fixtures`` (PROTOCOL.md §12).
enum VectorGenerator {
    static let seedHex = Fixtures.agentSeed.hexString

    // MARK: - frames.json

    static func frames() throws -> VectorFile<FrameGroup> {
        let samples: [(String, String, Frame)] = [
            ("HELLO from the fixed agent key", "agent→aggregator", sessionFrames()[0].2),
            (
                "HELLO announcing a future version 7 and an empty name", "agent→aggregator",
                .hello(
                    Hello(version: 7, publicKey: Fixtures.agentPublicKey, epoch: 1, agentTimeNanos: -1, agentName: "")
                )
            ),
            ("CHALLENGE with the fixed nonce", "aggregator→agent", sessionFrames()[1].2),
            ("PROOF over the fixed nonce, key and epoch", "agent→aggregator", sessionFrames()[2].2),
            ("WELCOME for a fresh epoch: nothing stored", "aggregator→agent", sessionFrames()[3].2),
            (
                "WELCOME resuming after sequence 41, largest window", "aggregator→agent",
                .welcome(
                    Welcome(
                        epoch: Fixtures.epoch,
                        lastSequence: 41,
                        lastBatchHash: Bytes32(Array(0x40...0x5f))!,
                        window: UInt16(WireLimits.maxWindow),
                        heartbeatIntervalSeconds: 30,
                        aggregatorTimeNanos: Fixtures.baseTime
                    )
                )
            ),
            ("BATCH carrying chain batch 1 of batches.json", "agent→aggregator", sessionFrames()[4].2),
            ("ACK: stored now", "aggregator→agent", sessionFrames()[5].2),
            (
                "ACK: was already stored", "aggregator→agent",
                .ack(
                    Ack(
                        epoch: Fixtures.epoch,
                        sequence: 41,
                        batchHash: Bytes32(Array(0x40...0x5f))!,
                        status: .duplicate
                    )
                )
            ),
            ("HEARTBEAT from an agent, with counters", "agent→aggregator", sessionFrames()[6].2),
            (
                "HEARTBEAT from an aggregator: no counters", "aggregator→agent",
                .heartbeat(Heartbeat(timeNanos: Fixtures.baseTime + 15_000_000_000))
            ),
            (
                "ERROR chainBroken naming sequence 7", "either",
                .error(
                    ErrorMessage(code: .chainBroken, sequence: 7, message: "previous hash does not match sequence 6")
                )
            ),
            (
                "ERROR serverBusy, no sequence, empty message", "either",
                .error(ErrorMessage(code: .serverBusy, message: ""))
            ),
            ("GOODBYE with a reason", "either", sessionFrames()[7].2),
            ("GOODBYE with non-ASCII text", "either", .goodbye(Goodbye(message: "arrêt — maintenance"))),
            (
                "ENROLL (version 2) with the fixed token, signed for the fixed nonce, key and epoch",
                "agent→aggregator",
                .enroll(
                    Enroll(
                        token: Self.token,
                        signature: Array(
                            (try? Fixtures.agentKey.signature(
                                for: Handshake.enrolmentMessage(
                                    nonce: Fixtures.nonce,
                                    publicKey: Fixtures.agentPublicKey,
                                    epoch: Fixtures.epoch,
                                    token: Self.token
                                )
                            )) ?? Data()
                        )
                    )
                )
            ),
            ("ENROLLED (version 2)", "aggregator→agent", .enrolled(Enrolled(agentName: Fixtures.agentName))),
            (
                "ROTATE (version 2): the fixed key hands chain batch 3 over to the second key", "agent→aggregator",
                .rotate(try Self.rotation())
            ),
            (
                "ROTATED (version 2)", "aggregator→agent",
                .rotated(
                    Rotated(
                        newPublicKey: Bytes32(Fixtures.otherKey.publicKey.rawRepresentation) ?? .zero,
                        newEpoch: Fixtures.epoch + 1
                    )
                )
            ),
        ]
        let frameTests = samples.enumerated().map { index, sample in
            vector(tcId: index + 1, comment: sample.0, direction: sample.1, frame: sample.2)
        }
        let sessionTests = try sessionFramesChecked().enumerated().map { index, item in
            vector(tcId: samples.count + index + 1, comment: item.0, direction: item.1, frame: item.2)
        }
        return VectorFile(
            algorithm: "FLIGHTLOG-FRAMES-V1",
            notes: """
                Every frame type of protocol version 1 (PROTOCOL.md §3–4). `frame` is the complete frame in hex, \
                length prefix included; `fields` are its decoded values. 64-bit integers are decimal strings. \
                Group `SessionTest` is the worked example of PROTOCOL.md §11, in the order the frames are sent.
                """,
            testGroups: [
                FrameGroup(type: "FrameTest", tests: frameTests), FrameGroup(type: "SessionTest", tests: sessionTests),
            ],
            count: { $0.tests.count }
        )
    }

    static func vector(tcId: Int, comment: String, direction: String, frame: Frame) -> FrameVector {
        FrameVector(
            tcId: tcId,
            comment: comment,
            direction: direction,
            frameType: frame.type.name,
            typeByte: frame.type.hexByte,
            frame: frame.encoded.readableBytesView.hexString,
            fields: FrameFields(frame),
            result: "valid"
        )
    }

    /// The worked example: one session that opens, ships chain batch 1, is acknowledged and closes.
    static func sessionFrames() -> [(String, String, Frame)] {
        let batch = (try? chain())?.first
        let proof = (try? Fixtures.agentKey.signature(for: proofMessage)).map(Array.init) ?? []
        let hash = batch?.hash ?? .zero
        return [
            (
                "1. the agent opens", "agent→aggregator",
                .hello(
                    Hello(
                        publicKey: Fixtures.agentPublicKey,
                        epoch: Fixtures.epoch,
                        agentTimeNanos: Fixtures.baseTime,
                        agentName: Fixtures.agentName
                    )
                )
            ),
            (
                "2. the aggregator challenges", "aggregator→agent",
                .challenge(Challenge(nonce: Fixtures.nonce, aggregatorTimeNanos: Fixtures.baseTime + 1_250_000))
            ),
            ("3. the agent proves it holds its key", "agent→aggregator", .proof(Proof(signature: proof))),
            (
                "4. the aggregator welcomes: nothing stored for this epoch yet", "aggregator→agent",
                .welcome(
                    Welcome(
                        epoch: Fixtures.epoch,
                        lastSequence: 0,
                        lastBatchHash: .zero,
                        window: 64,
                        heartbeatIntervalSeconds: 15,
                        aggregatorTimeNanos: Fixtures.baseTime + 2_500_000
                    )
                )
            ),
            ("5. the agent sends batch 1", "agent→aggregator", .batch(ByteBuffer(bytes: batch?.bytes ?? []))),
            (
                "6. the aggregator acknowledges it after its commit", "aggregator→agent",
                .ack(Ack(epoch: Fixtures.epoch, sequence: 1, batchHash: hash, status: .stored))
            ),
            (
                "7. the agent has been quiet for 15 s", "agent→aggregator",
                .heartbeat(
                    Heartbeat(
                        timeNanos: Fixtures.baseTime + 18_000_000_000,
                        counters: [
                            .init(name: "lines_read", value: 1), .init(name: "batches_sent", value: 1),
                            .init(name: "batches_acked", value: 1), .init(name: "spool_bytes", value: 0),
                            .init(name: "spool_batches", value: 0), .init(name: "drops", value: 0),
                            .init(name: "reconnects", value: 0),
                        ]
                    )
                )
            ),
            ("8. the agent stops", "agent→aggregator", .goodbye(Goodbye(message: "agent stopping"))),
        ]
    }

    static func sessionFramesChecked() throws -> [(String, String, Frame)] {
        _ = try chain()
        return sessionFrames()
    }

    /// The enrolment token of the vectors (the issued form: `flt1_` and 32 base32 characters).
    static let token = "flt1_abcdefghijklmnopqrstuvwxyz234567"

    /// The fixed key hands the chain of batches.json (head: batch 3) over to the second key, epoch + 1.
    static func rotation() throws -> RotationRecord {
        let head = try chain().last
        var record = RotationRecord(
            oldPublicKey: Fixtures.agentPublicKey,
            oldEpoch: Fixtures.epoch,
            oldHeadSequence: 3,
            oldHeadHash: head?.hash ?? .zero,
            newPublicKey: Bytes32(Fixtures.otherKey.publicKey.rawRepresentation) ?? .zero,
            newEpoch: Fixtures.epoch + 1,
            timeNanos: Fixtures.baseTime + 3_600_000_000_000
        )
        try record.sign(old: Fixtures.agentKey, new: Fixtures.otherKey)
        return record
    }

    static var proofMessage: [UInt8] {
        Handshake.proofMessage(nonce: Fixtures.nonce, publicKey: Fixtures.agentPublicKey, epoch: Fixtures.epoch)
    }

    // MARK: - batches.json

    /// Chain of three batches, sequence 1 … 3, of epoch ``Fixtures/epoch``.
    static func chain() throws -> [SignedBatch] {
        var batches: [SignedBatch] = []
        var previous = Bytes32.zero
        for sequence in 1...3 {
            let events = (1...sequence).map { Fixtures.event(sequence * 10 + $0) }
            let batch = try Fixtures.batch(events, sequence: UInt64(sequence), previousHash: previous)
            batches.append(batch)
            previous = batch.hash
        }
        return batches
    }

    static func batchVector(
        tcId: Int,
        comment: String,
        batch: SignedBatch,
        events: [Event],
        link: String?
    ) throws -> BatchVector {
        let payload = try EventCodec.encode(events)
        return BatchVector(
            tcId: tcId,
            comment: comment,
            epoch: String(batch.epoch),
            sequence: String(batch.sequence),
            previousHash: batch.previousHash.hex,
            createdNanos: String(batch.createdNanos),
            firstEventNanos: String(batch.firstEventNanos),
            lastEventNanos: String(batch.lastEventNanos),
            eventCount: batch.eventCount,
            events: events.map(EventVector.init),
            payload: payload.hexString,
            uncompressedLength: payload.count,
            compressedPayload: batch.compressedPayload.hexString,
            compressedLength: batch.compressedPayload.count,
            signedMessage: batch.signedMessage.hexString,
            signature: batch.signature.hexString,
            envelope: batch.bytes.hexString,
            hash: batch.hash.hex,
            chainLink: link,
            result: "valid"
        )
    }

    static func batches() throws -> VectorFile<BatchGroup> {
        let minimal = [
            Event(timeNanos: Fixtures.baseTime, observedNanos: Fixtures.baseTime, host: "", source: "", line: [])
        ]
        let single = [
            try batchVector(
                tcId: 1,
                comment:
                    "three events: parsed fields, the time flag, a line that is not UTF-8, events out of time order",
                batch: try Fixtures.batch(),
                events: Fixtures.events,
                link: nil
            ),
            try batchVector(
                tcId: 2,
                comment: "the smallest event: empty host, source and line, no fields",
                batch: try Fixtures.batch(minimal, sequence: 9, previousHash: Bytes32(Array(0x40...0x5f))!),
                events: minimal,
                link: nil
            ),
        ]
        let chain = try chain()
        let chained = try chain.enumerated().map { index, batch in
            try batchVector(
                tcId: single.count + index + 1,
                comment: "chain batch \(index + 1) of 3",
                batch: batch,
                events: try batch.decodeEvents(),
                link: index == 0 ? "genesis" : "extends"
            )
        }
        let key = Fixtures.agentKey.publicKey
        func group(_ type: String, _ tests: [BatchVector]) -> BatchGroup {
            BatchGroup(
                type: type,
                privateKeySeed: seedHex,
                publicKey: key.rawRepresentation.hexString,
                keyId: KeyID.of(key).hex,
                tests: tests
            )
        }
        return VectorFile(
            algorithm: "FLIGHTLOG-BATCH-V1",
            notes: """
                Signed batch envelopes (PROTOCOL.md §5) and their events (§6), signed with the Ed25519 key whose \
                seed is 000102…1f. zlib output may differ between zlib versions: check the envelope by assembling \
                it around `compressedPayload`, and check `compressedPayload` by inflating it to `payload`. \
                Signatures must be checked by verifying them. Group `ChainTest` is one chain in order.
                """,
            testGroups: [group("BatchTest", single), group("ChainTest", chained)],
            count: { $0.tests.count }
        )
    }

    // MARK: - handshake.json

    static func handshake() throws -> VectorFile<ProofGroup> {
        let message = proofMessage
        let signature = Array(try Fixtures.agentKey.signature(for: message))
        var flipped = signature
        flipped[10] ^= 0x04
        let otherEpoch = Array(
            try Fixtures.agentKey.signature(
                for: Handshake.proofMessage(
                    nonce: Fixtures.nonce,
                    publicKey: Fixtures.agentPublicKey,
                    epoch: Fixtures.epoch + 1
                )
            )
        )
        let otherKey = Array(try Fixtures.otherKey.signature(for: message))
        let otherNonce = Array(
            try Fixtures.agentKey.signature(
                for: Handshake.proofMessage(nonce: .zero, publicKey: Fixtures.agentPublicKey, epoch: Fixtures.epoch)
            )
        )
        let cases: [(String, [UInt8], String)] = [
            ("the proof for the fixed nonce, key and epoch", signature, "valid"),
            ("one bit of the signature flipped", flipped, "invalid"),
            ("signed for another epoch (epoch + 1)", otherEpoch, "invalid"),
            ("signed for another nonce (all zero)", otherNonce, "invalid"),
            ("signed by another key (seed 202122…3f)", otherKey, "invalid"),
        ]
        let tests = cases.enumerated().map { index, item in
            ProofVector(
                tcId: index + 1,
                comment: item.0,
                nonce: Fixtures.nonce.hex,
                publicKey: Fixtures.agentPublicKey.hex,
                epoch: String(Fixtures.epoch),
                message: message.hexString,
                signature: item.1.hexString,
                result: item.2
            )
        }
        return VectorFile(
            algorithm: "FLIGHTLOG-HANDSHAKE-V1",
            notes: """
                The PROOF of PROTOCOL.md §4.3: an Ed25519 signature over `message` = FLIGHTLOG-HANDSHAKE-V1\\0 ‖ \
                nonce ‖ public key ‖ epoch (u64 big-endian), 95 bytes. `valid` means it verifies against \
                `publicKey`; an aggregator answers an `invalid` proof with ERROR badProof.
                """,
            testGroups: [ProofGroup(type: "ProofTest", privateKeySeed: seedHex, tests: tests)],
            count: { $0.tests.count }
        )
    }

    // MARK: - malformed.json

    static func malformed() throws -> VectorFile<MalformedGroup> {
        func f(_ type: UInt8, _ body: [UInt8]) -> [UInt8] { Fixtures.frame(type: type, body: body) }
        func body(_ frame: Frame) -> [UInt8] { Array(frame.encoded.readableBytesView.dropFirst(5)) }
        let session = sessionFrames()
        let hello = body(session[0].2)
        let challenge = Array(session[1].2.encoded.readableBytesView)
        let welcomeBody = body(session[3].2)
        let ack = body(session[5].2)
        func patch(_ bytes: [UInt8], _ offset: Int, _ new: [UInt8]) -> [UInt8] {
            var copy = bytes
            copy.replaceSubrange(offset..<(offset + new.count), with: new)
            return copy
        }
        var badName = hello
        badName[badName.count - 1] = 0xff
        var lyingChallenge = challenge
        lyingChallenge[3] = 40
        let frames: [(String, [UInt8], WireError)] = [
            ("length 0", [0, 0, 0, 0], .invalidValue(what: "", value: 0)),
            (
                "length one past the maximum frame length (4195329)", [0x00, 0x40, 0x04, 0x01],
                .frameTooLarge(length: 0, limit: 0)
            ),
            ("length 0xffffffff", [0xff, 0xff, 0xff, 0xff], .frameTooLarge(length: 0, limit: 0)),
            ("unknown frame type 0x7f", f(0x7f, []), .unknownFrameType(0)),
            ("unknown frame type 0x09", f(0x09, Array(repeating: 0, count: 8)), .unknownFrameType(0)),
            ("HELLO with only its type byte", f(0x01, []), .truncated(what: "")),
            ("HELLO cut after the public key", f(0x01, Array(hello[..<38])), .truncated(what: "")),
            (
                "HELLO whose name length (20) lies: 9 bytes follow", f(0x01, patch(hello, 54, [20])),
                .truncated(what: "")
            ),
            ("HELLO with magic FLOX", f(0x01, patch(hello, 0, Array("FLOX".utf8))), .badMagic(what: "")),
            ("HELLO with lower-case magic flog", f(0x01, patch(hello, 0, Array("flog".utf8))), .badMagic(what: "")),
            (
                "HELLO with protocol version 0", f(0x01, patch(hello, 4, [0, 0])),
                .unsupportedVersion(what: "", version: 0)
            ),
            ("HELLO whose agent name is not UTF-8 (0xff)", f(0x01, badName), .invalidUTF8(what: "")),
            ("HELLO with one byte after the name", f(0x01, hello + [0]), .trailingBytes(what: "", count: 0)),
            (
                "CHALLENGE whose frame length lies (40, 3 short): the body ends inside the clock", lyingChallenge,
                .truncated(what: "")
            ),
            ("PROOF with a 63-byte signature", f(0x03, Array(repeating: 0x5a, count: 63)), .truncated(what: "")),
            (
                "PROOF with a 65-byte signature", f(0x03, Array(repeating: 0x5a, count: 65)),
                .trailingBytes(what: "", count: 0)
            ),
            ("WELCOME with window 0", f(0x04, patch(welcomeBody, 48, [0, 0])), .invalidValue(what: "", value: 0)),
            (
                "WELCOME with window 1025", f(0x04, patch(welcomeBody, 48, [0x04, 0x01])),
                .invalidValue(what: "", value: 0)
            ),
            (
                "WELCOME with heartbeat interval 0", f(0x04, patch(welcomeBody, 50, [0, 0])),
                .invalidValue(what: "", value: 0)
            ),
            ("ACK with status 2", f(0x11, patch(ack, 48, [2])), .invalidValue(what: "", value: 0)),
            ("ACK with one trailing byte", f(0x11, ack + [0]), .trailingBytes(what: "", count: 0)),
            (
                "HEARTBEAT with 65 counters",
                f(0x20, Array(repeating: 0, count: 8) + [65] + Array(repeating: 0, count: 65 * 9)),
                .lengthExceedsLimit(what: "", length: 0, limit: 0)
            ),
            (
                "HEARTBEAT with a 65-byte counter name",
                f(
                    0x20,
                    Array(repeating: 0, count: 8) + [1, 65] + Array(repeating: 0x61, count: 65)
                        + Array(repeating: 0, count: 8)
                ),
                .lengthExceedsLimit(what: "", length: 0, limit: 0)
            ),
            (
                "HEARTBEAT whose counter name is not UTF-8",
                f(0x20, Array(repeating: 0, count: 8) + [1, 1, 0x80] + Array(repeating: 0, count: 8)),
                .invalidUTF8(what: "")
            ),
            (
                "ERROR with a 1025-byte message",
                f(0x30, [0, 1] + Array(repeating: 0, count: 8) + [0x04, 0x01] + Array(repeating: 0x61, count: 1025)),
                .lengthExceedsLimit(what: "", length: 0, limit: 0)
            ),
            ("GOODBYE with an overlong UTF-8 encoding (c0 af)", f(0x31, [0, 2, 0xc0, 0xaf]), .invalidUTF8(what: "")),
            (
                "GOODBYE with a UTF-16 surrogate encoded in UTF-8 (ed a0 80)", f(0x31, [0, 3, 0xed, 0xa0, 0x80]),
                .invalidUTF8(what: "")
            ),
            ("GOODBYE with one trailing byte", f(0x31, [0, 1, 0x61, 0x62]), .trailingBytes(what: "", count: 0)),
        ]
        let frameTests = frames.enumerated().map { index, item in
            let length = item.1.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            let code = item.2.frameErrorCode
            let beforeWelcome: ErrorCode =
                code == .frameTooLarge || length > WireLimits.maxHandshakeFrameLength ? .frameTooLarge : code
            let agent: ErrorCode = code == .frameTooLarge ? .frameTooLarge : .malformedFrame
            return MalformedVector(
                tcId: index + 1,
                comment: item.0,
                input: item.1.hexString,
                error: item.2.caseName,
                errorCode: "\(code)",
                errorCodeBeforeWelcome: beforeWelcome == code ? nil : "\(beforeWelcome)",
                agentErrorCode: "\(agent)",
                result: "invalid"
            )
        }
        let incomplete: [(String, [UInt8], Int)] = [
            ("three bytes of a length (either side)", [0, 0, 0], 0),
            (
                "a HELLO length and type, body still missing (what an aggregator receives)",
                Array(session[0].2.encoded.readableBytesView.prefix(20)), 0,
            ),
            (
                "a complete CHALLENGE then half a WELCOME (what an agent receives): one frame, then the receiver waits",
                challenge + Array(session[3].2.encoded.readableBytesView.prefix(30)), 1,
            ),
        ]
        let incompleteTests = incomplete.enumerated().map { index, item in
            MalformedVector(
                tcId: frameTests.count + index + 1,
                comment: item.0 + ": the receiver waits for more bytes (PROTOCOL.md §3); this is no error by itself",
                input: item.1.hexString,
                error: nil,
                errorCode: nil,
                framesBefore: item.2,
                result: "invalid"
            )
        }
        let batchTests = try malformedBatches().enumerated().map { index, item in
            MalformedVector(
                tcId: frameTests.count + incompleteTests.count + index + 1,
                comment: item.0,
                input: item.1.hexString,
                error: item.2.caseName,
                errorCode: "\(item.2.batchErrorCode)",
                errorSequence: String(SignedBatch.sequence(namedBy: ByteBuffer(bytes: item.1))),
                result: "invalid"
            )
        }
        return VectorFile(
            algorithm: "FLIGHTLOG-MALFORMED-V1",
            notes: """
                Inputs a receiver must refuse. `MalformedFrameTest`: a byte stream whose first frame fails to \
                decode (PROTOCOL.md §3–4), on either side: frames are decoded before the session state is looked \
                at. `errorCode` is what an aggregator sends once the handshake is done, `errorCodeBeforeWelcome` \
                what it sends before WELCOME where that differs (§3 rule 2), `agentErrorCode` what an agent sends. \
                `IncompleteFrameTest`: a stream that ends inside a frame; a parser yields `framesBefore` complete \
                frames, then nothing, and waits. `MalformedBatchTest`: the body of a BATCH frame, checked in the \
                order of PROTOCOL.md §5 against `publicKey` (epoch 81985529216486895); envelopes that must reach a \
                later check carry a valid signature. `errorCode` is the ERROR an aggregator sends, \
                `errorSequence` the sequence it names (§7.5). `error` names the reference implementation's \
                WireError case.
                """,
            testGroups: [
                MalformedGroup(type: "MalformedFrameTest", publicKey: nil, tests: frameTests),
                MalformedGroup(type: "IncompleteFrameTest", publicKey: nil, tests: incompleteTests),
                MalformedGroup(
                    type: "MalformedBatchTest",
                    publicKey: Fixtures.agentPublicKey.hex,
                    tests: batchTests
                ),
            ],
            count: { $0.tests.count }
        )
    }

    static func malformedBatches() throws -> [(String, [UInt8], WireError)] {
        let good = try Fixtures.batch([Fixtures.event(1), Fixtures.event(2)])
        let events = [Fixtures.event(1), Fixtures.event(2)]
        let payload = try EventCodec.encode(events)
        let compressed = Array(good.compressedPayload)
        let header = BatchHeader(
            keyID: Fixtures.agentKeyID,
            epoch: Fixtures.epoch,
            sequence: 1,
            previousHash: .zero,
            createdNanos: good.createdNanos,
            events: events
        )
        func assemble(
            _ count: Int,
            _ uncompressed: Int,
            _ compressed: [UInt8],
            header: BatchHeader = header
        ) throws -> [UInt8] {
            try SignedBatch.assemble(
                header: header,
                eventCount: count,
                uncompressed: uncompressed,
                compressed: compressed,
                signingKey: Fixtures.agentKey
            ).bytes
        }
        func patched(_ offset: Int, _ new: [UInt8]) throws -> [UInt8] {
            var copy = good.bytes
            copy.replaceSubrange(offset..<(offset + new.count), with: new)
            return try Fixtures.resign(copy)
        }
        func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
        var flippedSignature = good.bytes
        flippedSignature[flippedSignature.count - 20] ^= 0x01
        var flippedPayload = good.bytes
        flippedPayload[130] ^= 0x80
        var flippedHeader = good.bytes
        flippedHeader[50] ^= 0x01
        let bomb = try Zlib.compress(Array(repeating: 0, count: 1 << 20), level: 9)
        var badHost = payload
        badHost[18] = 0xff  // first byte of the first event's host
        var badFlags = payload
        badFlags[16] = 0x02
        var timeRange = header
        timeRange.lastEventNanos += 1
        let otherEnvelope = try Fixtures.batch(events, key: Fixtures.otherKey).bytes
        return [
            ("187 bytes: shorter than any envelope", Array(good.bytes.prefix(187)), .truncated(what: "")),
            (
                "55 bytes: ends inside the sequence, so the ERROR names 0", Array(good.bytes.prefix(55)),
                .truncated(what: "")
            ),
            ("magic FLB2", try patched(0, Array("FLB2".utf8)), .badMagic(what: "")),
            ("format version 2", try patched(4, [2]), .unsupportedVersion(what: "", version: 0)),
            ("codec 2", try patched(5, [2]), .unknownCodec(0)),
            ("flags 0x0001", try patched(6, [0, 1]), .invalidValue(what: "", value: 0)),
            ("sequence 0", try patched(48, be(UInt64(0))), .invalidValue(what: "", value: 0)),
            (
                "first event time after last event time", try patched(96, be(Int64.max)),
                .invalidValue(what: "", value: 0)
            ),
            ("event count 0", try patched(112, be(UInt32(0))), .invalidValue(what: "", value: 0)),
            (
                "event count 65537", try patched(112, be(UInt32(65537))),
                .lengthExceedsLimit(what: "", length: 0, limit: 0)
            ),
            (
                "uncompressed length 4194305", try patched(116, be(UInt32(4_194_305))),
                .lengthExceedsLimit(what: "", length: 0, limit: 0)
            ),
            (
                "compressed length 4194305", try patched(120, be(UInt32(4_194_305))),
                .lengthExceedsLimit(what: "", length: 0, limit: 0)
            ),
            (
                "compressed length that lies: one more than present",
                try patched(120, be(UInt32(compressed.count + 1))),
                .lengthMismatch(what: "", declared: 0, actual: 0)
            ),
            ("one byte after the signature", good.bytes + [0], .lengthMismatch(what: "", declared: 0, actual: 0)),
            ("key id of another agent, signed by that agent", otherEnvelope, .keyMismatch),
            ("one bit of the signature flipped", flippedSignature, .badSignature),
            ("one bit of the compressed payload flipped, signature unchanged", flippedPayload, .badSignature),
            ("one bit of the sequence flipped, signature unchanged", flippedHeader, .badSignature),
            (
                "signed, but the payload is not a zlib stream",
                try assemble(2, payload.count, Array("not zlib at all".utf8)),
                .corruptCompression("")
            ),
            (
                "signed, but the zlib stream is cut short",
                try assemble(2, payload.count, Array(compressed.dropLast(6))),
                .corruptCompression("")
            ),
            (
                "signed zip bomb: 1 MiB of zeros declared as 1000 bytes", try assemble(1, 1000, bomb),
                .inflatedLengthMismatch(declared: 0)
            ),
            (
                "signed, payload inflates to one byte less than declared",
                try assemble(2, payload.count + 1, compressed),
                .inflatedLengthMismatch(declared: 0)
            ),
            (
                "signed, bytes after the zlib stream", try assemble(2, payload.count, compressed + [0, 0, 0]),
                .trailingBytes(what: "", count: 0)
            ),
            (
                "signed, event count 3 but 2 events in the payload", try assemble(3, payload.count, compressed),
                .truncated(what: "")
            ),
            (
                "signed, event count 1 but 2 events in the payload", try assemble(1, payload.count, compressed),
                .trailingBytes(what: "", count: 0)
            ),
            (
                "signed, header time range disagrees with the events",
                try assemble(2, payload.count, compressed, header: timeRange),
                .invalidValue(what: "", value: 0)
            ),
            (
                "signed, an event host that is not UTF-8", try assemble(2, badHost.count, try Zlib.compress(badHost)),
                .invalidUTF8(what: "")
            ),
            (
                "signed, an event flag bit this version does not define",
                try assemble(2, badFlags.count, try Zlib.compress(badFlags)),
                .invalidValue(what: "", value: 0)
            ),
        ]
    }
}
