import FlightlogWire
import Foundation

/// Renders the worked example of PROTOCOL.md §11 from the `SessionTest` group of frames.json.
enum WorkedExample {
    static let begin = "<!-- BEGIN GENERATED: worked example, from protocol/vectors/frames.json (SessionTest) -->"
    static let end = "<!-- END GENERATED: worked example -->"

    static func render(_ file: VectorFile<FrameGroup>) -> String {
        guard let session = file.testGroups.first(where: { $0.type == "SessionTest" }) else { return "" }
        var out = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for test in session.tests {
            let bytes = [UInt8](hex: test.frame) ?? []
            let type = FrameType(name: test.frameType)
            out += "#### \(test.comment): \(type?.wireName ?? "?") (`\(test.frameType)`, \(test.typeByte)), "
            out += "\(test.direction), \(bytes.count) bytes\n\n"
            out += "```\n"
            out += "length \(bytes.prefix(4).hexString)  type \(bytes.dropFirst(4).prefix(1).hexString)\n"
            let body = Array(bytes.dropFirst(5))
            for start in stride(from: 0, to: body.count, by: 16) {
                let row = body[start..<min(start + 16, body.count)]
                let offset = String(start, radix: 10)
                out += String(repeating: " ", count: max(0, 5 - offset.count)) + offset + "  "
                out += stride(from: row.startIndex, to: row.endIndex, by: 4).map {
                    row[$0..<min($0 + 4, row.endIndex)].hexString
                }.joined(separator: " ")
                out += "\n"
            }
            out += "```\n\n"
            var fields = test.fields
            if fields.envelope != nil { fields.envelope = "(the body above: batches.json, ChainTest, tcId 3)" }
            let json = (try? encoder.encode(fields)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            out += "Decoded: `\(json)`\n\n"
        }
        return out
    }

    static var protocolFile: URL { ProtocolDirectory.url.appendingPathComponent("PROTOCOL.md") }

    /// The generated block as PROTOCOL.md holds it now, or nil when its markers are missing.
    static func current() throws -> String? {
        let text = try String(contentsOf: protocolFile, encoding: .utf8)
        guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex)
        else {
            return nil
        }
        return String(text[start.upperBound..<stop.lowerBound])
    }

    static func update(from file: VectorFile<FrameGroup>) throws {
        let text = try String(contentsOf: protocolFile, encoding: .utf8)
        guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex)
        else {
            return
        }
        let updated = text.replacingCharacters(in: start.upperBound..<stop.lowerBound, with: "\n\n" + render(file))
        try updated.write(to: protocolFile, atomically: true, encoding: .utf8)
    }
}
