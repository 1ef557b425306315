import FlightlogWire
import Foundation
import Testing

/// PROTOCOL.md names every frame type, error code and limit the code has, with the code's values.
struct ProtocolDocTests {
    static func document() throws -> String {
        try String(contentsOf: ProtocolDirectory.url.appendingPathComponent("PROTOCOL.md"), encoding: .utf8)
    }

    /// The cells of the Markdown table rows of `text`.
    static func rows(_ text: String) -> [[String]] {
        text.split(separator: "\n").filter { $0.hasPrefix("|") }.map {
            $0.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    @Test("every FrameType: upper-case name, case name and type byte in one table row", arguments: FrameType.allCases)
    func frameType(_ type: FrameType) throws {
        let rows = Self.rows(try Self.document())
        let row = rows.first { $0.contains("`\(type.name)`") && $0.contains(type.hexByte) }
        #expect(row != nil, "no table row with `\(type.name)` and \(type.hexByte)")
        #expect(row?.contains { $0.contains(type.wireName) } == true)
        #expect(try Self.document().contains("4.\(FrameType.allCases.firstIndex(of: type)! + 1) \(type.wireName)"))
    }

    @Test("every ErrorCode: number, name and retryability in one table row", arguments: ErrorCode.allCases)
    func errorCode(_ code: ErrorCode) throws {
        let rows = Self.rows(try Self.document())
        let row = rows.first { $0.count > 3 && $0[1] == String(code.rawValue) && $0[2] == "`\(code)`" }
        #expect(row != nil, "no table row | \(code.rawValue) | `\(code)` |")
        #expect(row?.dropLast().last == (code.isRetryable ? "yes" : "no"), "retryable column of \(code)")
    }

    static let limits: [String: Int] = [
        "maxFrameLength": WireLimits.maxFrameLength,
        "maxHandshakeFrameLength": WireLimits.maxHandshakeFrameLength,
        "maxUncompressedBatchLength": WireLimits.maxUncompressedBatchLength,
        "maxCompressedBatchLength": WireLimits.maxCompressedBatchLength,
        "maxEventsPerBatch": WireLimits.maxEventsPerBatch,
        "maxLineLength": WireLimits.maxLineLength,
        "maxFieldsPerEvent": WireLimits.maxFieldsPerEvent,
        "maxFieldKeyLength": WireLimits.maxFieldKeyLength,
        "maxFieldValueLength": WireLimits.maxFieldValueLength,
        "maxHostLength": WireLimits.maxHostLength,
        "maxSourceLength": WireLimits.maxSourceLength,
        "maxAgentNameLength": WireLimits.maxAgentNameLength,
        "maxMessageLength": WireLimits.maxMessageLength,
        "maxHeartbeatCounters": WireLimits.maxHeartbeatCounters,
        "maxCounterNameLength": WireLimits.maxCounterNameLength,
        "maxWindow": WireLimits.maxWindow,
        "maxTokenLength": WireLimits.maxTokenLength,
    ]

    @Test("every WireLimits constant, read from its source file, is in the limits table with its value")
    func limitsTable() throws {
        let source = try String(
            contentsOf: ProtocolDirectory.sources.appendingPathComponent("WireLimits.swift"),
            encoding: .utf8
        )
        let names = source.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard let let_ = words.firstIndex(of: "let"), words.contains("static"), let_ + 1 < words.count else {
                return nil
            }
            return String(words[let_ + 1])
        }
        #expect(names.count >= 15)
        #expect(Set(names) == Set(Self.limits.keys), "update the table in this test and PROTOCOL.md §9")
        let rows = Self.rows(try Self.document())
        for name in names {
            let row = rows.first { $0.contains("`\(name)`") }
            #expect(row != nil, "no table row for `\(name)`")
            let value = Self.limits[name] ?? -1
            #expect(row?.contains(String(value)) == true, "`\(name)` must show \(value)")
        }
    }

    @Test("the worked example of §11 is exactly what frames.json generates")
    func workedExample() throws {
        guard !ProtocolDirectory.writing else { return }
        let file = try VectorFile<FrameGroup>.read("frames.json")
        let block = try #require(try WorkedExample.current(), "PROTOCOL.md lacks the worked-example markers")
        #expect(block == "\n\n" + WorkedExample.render(file), "run with FLIGHTLOG_WRITE_VECTORS=1 to regenerate")
    }
}
