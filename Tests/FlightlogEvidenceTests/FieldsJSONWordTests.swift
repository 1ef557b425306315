import FlightlogWire
import Foundation
import Testing

@testable import FlightlogEvidence

@Suite("FieldsJSON: the 8-byte escape test")
struct FieldsJSONWordTests {
    /// Every byte value at every position of a word otherwise made of plain bytes: the word test may say "maybe"
    /// too often, never "no" when a byte needs an escape.
    @Test func neverMissesAByteThatNeedsAnEscape() {
        let fills: [UInt8] = [0x61, 0x7f, 0x80, 0xc3, 0xff, 0x21, 0x23, 0x5b, 0x5d]
        for fill in fills {
            for position in 0..<8 {
                for byte in 0...255 {
                    var bytes = [UInt8](repeating: fill, count: 8)
                    bytes[position] = UInt8(byte)
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let needs = bytes.contains { (value: UInt8) -> Bool in
                        value < 0x20 || value == 0x22 || value == 0x5c
                    }
                    if needs { #expect(FieldsJSON.mayNeedEscape(word), "\(bytes)") }
                    let printable = byte >= 0x20 && byte < 0x80
                    let plain = fill == 0x61 && !needs && printable
                    // Printable ASCII around printable ASCII: the word is let through whole.
                    if plain { #expect(!FieldsJSON.mayNeedEscape(word), "\(bytes)") }
                }
            }
        }
    }
}
