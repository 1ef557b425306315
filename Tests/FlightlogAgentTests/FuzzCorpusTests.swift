import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

@testable import FlightlogAgent

/// Replays the corpus libFuzzer kept for the line parser (`scripts/fuzz.sh lines`, docs/FUZZING.md), as the fuzz
/// target runs it (`Fuzz/Sources/FuzzTargets/LineTarget.swift`): every line of every input, parsed in UTC and in a
/// zone with daylight-saving changes, makes an event the wire accepts; a JSON line ``FlatJSON`` reads gives exactly
/// what the `JSONSerialization` path gives.
@Suite("Fuzz corpus replay: line parser")
struct FuzzCorpusTests {
    static let parsers = [
        LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current),
        LineParser(timeZone: TimeZone(identifier: "America/New_York") ?? .current),
    ]
    /// 2026-12-07T00:00:00Z, the fuzz target's read time.
    static let observedNanos: Int64 = 1_796_601_600_000_000_000

    @Test("lines: any bytes parse to fields within the wire's limits")
    func lines() throws {
        let corpus = try RepositoryFiles.fuzzCorpus("lines")
        #expect(!corpus.isEmpty)
        var formats = Set<LineFormat>()
        for (name, input) in corpus {
            for line in input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                let line = Array(line)
                guard line.count <= WireLimits.maxLineLength else { continue }
                for parser in Self.parsers {
                    let parsed = parser.parse(line, observedNanos: Self.observedNanos)
                    formats.insert(parsed.format)
                    let event = Event(
                        timeNanos: parsed.timeNanos ?? Self.observedNanos,
                        observedNanos: Self.observedNanos,
                        flags: parsed.timeNanos == nil ? [] : .timeFromLine,
                        host: "fuzz",
                        source: "/var/log/fuzz.log",
                        line: line,
                        fields: parsed.fields
                    )
                    #expect(throws: Never.self, "\(name): \(parsed.format)") { try EventCodec.validate(event) }
                    if let members = line.withUnsafeBufferPointer(FlatJSON.parse) {
                        let fast = parser.parseFlatJSON(members, observedNanos: Self.observedNanos)
                        #expect(
                            fast == parser.parseJSONSerialization(line, observedNanos: Self.observedNanos),
                            "\(name)"
                        )
                    }
                }
            }
        }
        // The corpus reaches more than the raw fallback.
        #expect(formats.count > 3, "\(formats)")
    }
}
