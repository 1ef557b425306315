import FlightlogAgent
import Foundation

/// `flightlog-bench parse-dump FILE…`: every line of the files, and variants of it with non-ASCII text, parsed, one
/// result a line (`time|format|key=value␉…`), for comparing two builds' parsers byte for byte.
func parseDump(files: [String]) throws {
    let parser = LineParser(timeZone: TimeZone(identifier: "Europe/Berlin") ?? .current)
    var output: [UInt8] = []
    func dump(_ line: [UInt8]) {
        let parsed = parser.parse(line, observedNanos: 1_795_521_600_000_000_000)
        output += Array("\(parsed.timeNanos.map(String.init) ?? "-")|\(parsed.format.rawValue)|".utf8)
        for field in parsed.fields {
            output += Array("\(field.key)=\(field.value)".utf8)
            output.append(0x09)
        }
        output.append(0x0a)
    }
    // Marks that join the character before them, a prepended mark, a Kelvin sign (canonically "K") and an e acute.
    let insertions: [[UInt8]] = [
        Array("\u{0301}".utf8), Array("\u{0600}".utf8), Array("\u{212A}".utf8), Array("é".utf8),
    ]
    for path in files {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        for line in data.split(separator: 0x0a, omittingEmptySubsequences: false) {
            let bytes = Array(line)
            dump(bytes)
            dump(bytes + Array(" [preauth]".utf8))
            for (number, insertion) in insertions.enumerated() where !bytes.isEmpty {
                // Before and after a few positions: spaces, punctuation and the end.
                for (offset, byte) in bytes.enumerated()
                where byte == UInt8(ascii: " ") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "=")
                    || byte == UInt8(ascii: "(") || offset == bytes.count - 1
                {
                    guard (offset + number) % 3 == 0 else { continue }
                    dump(Array(bytes[..<offset]) + insertion + Array(bytes[offset...]))
                    dump(Array(bytes[...offset]) + insertion + Array(bytes[(offset + 1)...]))
                }
            }
        }
        FileHandle.standardOutput.write(Data(output))
        output.removeAll(keepingCapacity: true)
    }
}
