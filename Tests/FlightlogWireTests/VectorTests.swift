import Crypto
import FlightlogWire
import Foundation
import NIOCore
import Testing

/// The committed vectors in `protocol/vectors/` (PROTOCOL.md §12), checked in both directions.
///
/// With `FLIGHTLOG_WRITE_VECTORS=1` the files (and the worked example in PROTOCOL.md §11) are regenerated instead.
@Suite(.serialized)
struct VectorTests {
    @Test("frames.json: fields encode to exactly the bytes, the bytes decode to exactly the fields")
    func frames() throws {
        if ProtocolDirectory.writing {
            let file = try VectorGenerator.frames()
            try file.write("frames.json")
            try WorkedExample.update(from: file)
        }
        let file = try VectorFile<FrameGroup>.read("frames.json")
        #expect(file.numberOfTests == file.testGroups.map(\.tests.count).reduce(0, +))
        var seen = Set<FrameType>()
        for test in file.testGroups.flatMap(\.tests) {
            let type = try #require(FrameType(name: test.frameType), "tcId \(test.tcId)")
            seen.insert(type)
            #expect(test.typeByte == type.hexByte)
            let bytes = try #require([UInt8](hex: test.frame))
            let frame = try #require(test.fields.frame(type: type), "tcId \(test.tcId): fields do not describe a frame")
            #expect(Array(frame.encoded.readableBytesView) == bytes, "tcId \(test.tcId): encode")
            var buffer = ByteBuffer(bytes: bytes)
            var parser = FrameParser()
            let decoded = try parser.nextFrame(buffer: &buffer)
            #expect(decoded == frame, "tcId \(test.tcId): decode")
            #expect(decoded.map(FrameFields.init) == test.fields, "tcId \(test.tcId): decoded fields")
            #expect(buffer.readableBytes == 0)
        }
        #expect(seen == Set(FrameType.allCases))
        try checkSession(try #require(file.testGroups.first { $0.type == "SessionTest" }))
    }

    /// The worked example is one coherent session: the proof verifies, the batch verifies, the ack names its hash.
    func checkSession(_ group: FrameGroup) throws {
        var frames: [Frame] = []
        for test in group.tests {
            var buffer = ByteBuffer(bytes: try #require([UInt8](hex: test.frame)))
            var parser = FrameParser()
            frames.append(try #require(try parser.nextFrame(buffer: &buffer)))
        }
        #expect(frames.map(\.type) == [.hello, .challenge, .proof, .welcome, .batch, .ack, .heartbeat, .goodbye])
        guard case .hello(let hello) = frames[0], case .challenge(let challenge) = frames[1],
            case .proof(let proof) = frames[2], case .welcome(let welcome) = frames[3],
            case .batch(let body) = frames[4],
            case .ack(let ack) = frames[5]
        else {
            Issue.record("session frames out of order")
            return
        }
        let key = try Curve25519.Signing.PublicKey(rawRepresentation: hello.publicKey.bytes)
        let message = Handshake.proofMessage(nonce: challenge.nonce, publicKey: hello.publicKey, epoch: hello.epoch)
        #expect(key.isValidSignature(proof.signature, for: message))
        #expect(challenge.version == min(hello.version, ProtocolVersion.current))
        #expect(welcome.epoch == hello.epoch)
        let batch = try SignedBatch(buffer: body)
        try batch.verifySignature(publicKey: key)
        #expect(batch.epoch == hello.epoch)
        #expect(batch.sequence == welcome.lastSequence + 1)
        _ = try batch.decodeEvents()
        #expect(ack.batchHash == batch.hash)
        #expect(ack.sequence == batch.sequence)
        #expect(ack.epoch == batch.epoch)
    }

    @Test("batches.json: assemble, verify, hash, inflate, encode and decode all agree with the vector")
    func batches() throws {
        if ProtocolDirectory.writing {
            try VectorGenerator.batches().write("batches.json")
        }
        let file = try VectorFile<BatchGroup>.read("batches.json")
        #expect(file.numberOfTests == file.testGroups.map(\.tests.count).reduce(0, +))
        let signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: Fixtures.agentSeed)
        for group in file.testGroups {
            #expect(group.privateKeySeed == Fixtures.agentSeed.hexString)
            #expect(group.publicKey == signingKey.publicKey.rawRepresentation.hexString)
            let publicKey = try Curve25519.Signing.PublicKey(
                rawRepresentation: try #require([UInt8](hex: group.publicKey))
            )
            #expect(group.keyId == SHA256.hash(data: publicKey.rawRepresentation).hexString)
            var head: ChainLink.Head? = nil
            for test in group.tests {
                let batch = try checkBatch(test, group: group, publicKey: publicKey, signingKey: signingKey)
                if group.type == "ChainTest" {
                    let link = ChainLink.classify(
                        sequence: batch.sequence,
                        previousHash: batch.previousHash,
                        head: head
                    )
                    #expect("\(link)" == test.chainLink, "tcId \(test.tcId)")
                    head = ChainLink.Head(sequence: batch.sequence, hash: batch.hash)
                }
            }
            if group.type == "ChainTest" {
                #expect(group.tests.map(\.sequence) == ["1", "2", "3"])
            }
        }
    }

    func checkBatch(
        _ test: BatchVector,
        group: BatchGroup,
        publicKey: Curve25519.Signing.PublicKey,
        signingKey: Curve25519.Signing.PrivateKey
    ) throws -> SignedBatch {
        let id = "tcId \(test.tcId)"
        let envelope = try #require([UInt8](hex: test.envelope), "\(id)")
        let compressed = try #require([UInt8](hex: test.compressedPayload), "\(id)")
        let payload = try #require([UInt8](hex: test.payload), "\(id)")
        let events = try test.events.map { try #require($0.event, "\(id)") }
        #expect(test.events.allSatisfy { $0.lineText == nil || Array($0.lineText!.utf8) == [UInt8](hex: $0.lineHex) })

        // Encode direction: events → payload, payload ⇐ compressed, header fields + compressed → envelope.
        #expect(try EventCodec.encode(events) == payload, "\(id)")
        #expect(try Zlib.inflate(compressed, declaredLength: test.uncompressedLength) == payload, "\(id)")
        let header = BatchHeader(
            keyID: try #require(Bytes32(hex: group.keyId)),
            epoch: try #require(UInt64(test.epoch)),
            sequence: try #require(UInt64(test.sequence)),
            previousHash: try #require(Bytes32(hex: test.previousHash)),
            createdNanos: try #require(Int64(test.createdNanos)),
            firstEventNanos: try #require(Int64(test.firstEventNanos)),
            lastEventNanos: try #require(Int64(test.lastEventNanos))
        )
        let assembled = try SignedBatch.assemble(
            header: header,
            eventCount: test.eventCount,
            uncompressed: test.uncompressedLength,
            compressed: compressed,
            signingKey: signingKey
        )
        let signedPart = Array(envelope.dropLast(64))
        #expect(Array(assembled.bytes.dropLast(64)) == signedPart, "\(id): assembled header and payload")
        #expect(assembled.signedMessage == [UInt8](hex: test.signedMessage), "\(id)")
        #expect(SignedBatch.signatureContext + signedPart == [UInt8](hex: test.signedMessage), "\(id)")
        #expect(
            publicKey.isValidSignature(assembled.signature, for: SignedBatch.signatureContext + signedPart),
            "\(id)"
        )

        // Decode direction: envelope → fields, signature, hash, events.
        let signature = try #require([UInt8](hex: test.signature), "\(id)")
        #expect(Array(envelope.suffix(64)) == signature, "\(id)")
        #expect(publicKey.isValidSignature(signature, for: SignedBatch.signatureContext + signedPart), "\(id)")
        let batch = try SignedBatch(bytes: envelope)
        try batch.verifySignature(publicKey: publicKey)
        #expect(batch.hash.hex == test.hash, "\(id)")
        #expect(SHA256.hash(data: envelope).hexString == test.hash, "\(id)")
        #expect(batch.keyID.hex == group.keyId)
        #expect(String(batch.epoch) == test.epoch)
        #expect(String(batch.sequence) == test.sequence)
        #expect(batch.previousHash.hex == test.previousHash)
        #expect(String(batch.createdNanos) == test.createdNanos)
        #expect(String(batch.firstEventNanos) == test.firstEventNanos)
        #expect(String(batch.lastEventNanos) == test.lastEventNanos)
        #expect(batch.eventCount == test.eventCount)
        #expect(batch.uncompressedLength == test.uncompressedLength)
        #expect(batch.compressedPayload.count == test.compressedLength)
        #expect(Array(batch.compressedPayload) == compressed)
        #expect(try batch.decodeEvents() == events, "\(id)")
        #expect(try batch.decodeEvents().map(EventVector.init) == test.events, "\(id)")
        return batch
    }

    @Test("handshake.json: proofs verify exactly when the vector says valid")
    func handshake() throws {
        if ProtocolDirectory.writing {
            try VectorGenerator.handshake().write("handshake.json")
        }
        let file = try VectorFile<ProofGroup>.read("handshake.json")
        #expect(file.testGroups.flatMap(\.tests).contains { $0.result == "valid" })
        for test in file.testGroups.flatMap(\.tests) {
            let nonce = try #require(Bytes32(hex: test.nonce))
            let publicKey = try #require(Bytes32(hex: test.publicKey))
            let epoch = try #require(UInt64(test.epoch))
            let message = Handshake.proofMessage(nonce: nonce, publicKey: publicKey, epoch: epoch)
            #expect(message.hexString == test.message, "tcId \(test.tcId)")
            #expect(message.count == 95)
            let key = try Curve25519.Signing.PublicKey(rawRepresentation: publicKey.bytes)
            let signature = try #require([UInt8](hex: test.signature))
            #expect(key.isValidSignature(signature, for: message) == (test.result == "valid"), "tcId \(test.tcId)")
        }
    }

    @Test("malformed.json: every input fails with its WireError case, and maps to its ErrorCode")
    func malformed() throws {
        if ProtocolDirectory.writing {
            try VectorGenerator.malformed().write("malformed.json")
        }
        let file = try VectorFile<MalformedGroup>.read("malformed.json")
        for group in file.testGroups {
            for test in group.tests {
                let input = try #require([UInt8](hex: test.input), "tcId \(test.tcId)")
                #expect(test.result == "invalid")
                switch group.type {
                case "MalformedFrameTest":
                    var buffer = ByteBuffer(bytes: input)
                    var parser = FrameParser()
                    do {
                        let frame = try parser.nextFrame(buffer: &buffer)
                        Issue.record("tcId \(test.tcId): decoded \(String(describing: frame))")
                    } catch {
                        #expect(error.caseName == test.error, "tcId \(test.tcId): \(error)")
                        #expect("\(error.frameErrorCode)" == test.errorCode, "tcId \(test.tcId)")
                        #expect(test.agentErrorCode != nil, "tcId \(test.tcId)")
                    }
                case "IncompleteFrameTest":
                    var buffer = ByteBuffer(bytes: input)
                    var parser = FrameParser()
                    var consumed = 0
                    var frames = 0
                    while let frame = try parser.nextFrame(buffer: &buffer) {
                        consumed += frame.encoded.readableBytes
                        frames += 1
                    }
                    #expect(consumed < input.count, "tcId \(test.tcId)")
                    #expect(frames == test.framesBefore, "tcId \(test.tcId)")
                    #expect(test.error == nil && test.errorCode == nil)
                case "MalformedBatchTest":
                    let key = try Curve25519.Signing.PublicKey(
                        rawRepresentation: try #require([UInt8](hex: group.publicKey ?? ""))
                    )
                    do {
                        let batch = try SignedBatch(bytes: input)
                        try batch.verifySignature(publicKey: key)
                        let events = try batch.decodeEvents()
                        Issue.record("tcId \(test.tcId): accepted \(events.count) events")
                    } catch {
                        #expect(error.caseName == test.error, "tcId \(test.tcId): \(error)")
                        #expect("\(error.batchErrorCode)" == test.errorCode, "tcId \(test.tcId)")
                    }
                    let named = input.count >= 56 ? input[48..<56].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } : 0
                    #expect(test.errorSequence == String(named), "tcId \(test.tcId)")
                default:
                    Issue.record("unknown group type \(group.type)")
                }
            }
        }
        let names = Set(file.testGroups.flatMap(\.tests).compactMap(\.error))
        let required = [
            "lengthExceedsLimit", "truncated", "badMagic", "unsupportedVersion", "unknownFrameType", "trailingBytes",
            "invalidUTF8", "badSignature", "keyMismatch", "corruptCompression", "inflatedLengthMismatch",
            "lengthMismatch",
            "unknownCodec", "invalidValue",
        ]
        #expect(names.isSuperset(of: required))
    }
}
