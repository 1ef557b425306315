import Crypto
import FlightlogAggregator
import FlightlogStore
import FlightlogTestSupport
import FlightlogWire
import Foundation
import NIOCore
import Testing

/// `protocol/vectors/malformed.json` against the real aggregator over loopback: every frame that does not decode
/// gets the ERROR code the vector names, before HELLO and after WELCOME alike (frames are decoded before the state
/// is looked at), and every refused batch an ERROR with the code and the sequence it names (PROTOCOL.md §3, §7.5).
@Suite("malformed.json against the live aggregator")
struct MalformedVectorSessionTests {
    struct File: Decodable {
        struct Group: Decodable {
            var type: String
            var tests: [Vector]
        }
        struct Vector: Decodable {
            var tcId: Int
            var input: String
            var errorCode: String?
            var errorCodeBeforeWelcome: String?
            var errorSequence: String?
        }
        var testGroups: [Group]
    }

    static let file: File? = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("protocol/vectors/malformed.json")
            if let data = FileManager.default.contents(atPath: candidate.path) {
                return try? JSONDecoder().decode(File.self, from: data)
            }
        }
        return nil
    }()

    static func vectors(_ type: String) -> [File.Vector] {
        Self.file?.testGroups.first { $0.type == type }?.tests ?? []
    }

    /// The agent of every vector: seed 00 01 … 1f, epoch 81985529216486895 (PROTOCOL.md §12).
    static let agent = TestAgent(
        name: "cc-ws-602",
        epoch: 0x0123_4567_89ab_cdef,
        key: (try? Curve25519.Signing.PrivateKey(rawRepresentation: Array(UInt8(0x00)...UInt8(0x1f))))
            ?? Curve25519.Signing.PrivateKey()
    )

    private func reply(_ connection: TestConnection, after input: [UInt8]) async throws -> ErrorMessage? {
        try await connection.sendRaw(input)
        let frame = try await connection.receiveSkippingHeartbeats()
        try await connection.waitClosed()
        if case .error(let error) = frame { return error }
        return nil
    }

    @Test func everyMalformedFrameIsAnsweredWithItsCodeBeforeHelloAndAfterWelcome() async throws {
        let vectors = Self.vectors("MalformedFrameTest")
        #expect(vectors.count >= 28)
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await store.enroll(name: Self.agent.name, publicKeyBase64: Self.agent.publicKeyBase64, atNanos: 1)
            for vector in vectors {
                let input = try #require([UInt8](hex: vector.input))
                let fresh = try await TestConnection.connect(port: port)
                let before = try await self.reply(fresh, after: input)
                #expect(
                    before.flatMap { $0.code.map { "\($0)" } } == (vector.errorCodeBeforeWelcome ?? vector.errorCode),
                    "tcId \(vector.tcId) before HELLO: \(String(describing: before))"
                )
                #expect(before?.sequence == 0, "tcId \(vector.tcId)")
                let (session, _) = try await Self.agent.open(port: port)
                let after = try await self.reply(session, after: input)
                #expect(
                    after.flatMap { $0.code.map { "\($0)" } } == vector.errorCode,
                    "tcId \(vector.tcId) after WELCOME: \(String(describing: after))"
                )
            }
        }
    }

    @Test func everyMalformedBatchIsAnsweredWithItsCodeAndTheSequenceItNames() async throws {
        let vectors = Self.vectors("MalformedBatchTest")
        #expect(vectors.count >= 27)
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await store.enroll(name: Self.agent.name, publicKeyBase64: Self.agent.publicKeyBase64, atNanos: 1)
            for vector in vectors {
                let input = try #require([UInt8](hex: vector.input))
                let (session, _) = try await Self.agent.open(port: port)
                var frame = ByteBuffer()
                frame.writeFrame(.batch(ByteBuffer(bytes: input)))
                let error = try await self.reply(session, after: Array(frame.readableBytesView))
                #expect(
                    error?.code.map { "\($0)" } == vector.errorCode,
                    "tcId \(vector.tcId): \(String(describing: error))"
                )
                #expect(error.map { String($0.sequence) } == vector.errorSequence, "tcId \(vector.tcId)")
            }
        }
    }
}
