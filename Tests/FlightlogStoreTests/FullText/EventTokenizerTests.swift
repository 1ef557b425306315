import FlightlogTestSupport
import FlightlogWire
import GRDB
import Testing

@testable import FlightlogStore

@Suite("EventTokenizer: ASCII text tokenized in Swift as SQLite's unicode61 does")
struct EventTokenizerTests {
    @Test("the same token counts and digests as SQLite's tokenizer, line and attributes")
    func asciiFastPathAgreesWithSQLite() throws {
        let queue = try DatabaseQueue()
        try queue.inDatabase { db in
            let fast = EventTokenizer(try db.makeTokenizer(.unicode61()))
            let sqlite = EventTokenizer(try db.makeTokenizer(.unicode61()))
            sqlite.asciiFastPath = false
            var random = SeededRandom(state: 0xDEAD_BEEF_1234_5678)
            // Every ASCII byte, runs of letters and digits of every length around the 8-byte words the digest reads.
            let alphabet = (0..<128).map { UInt8($0) } + Array("AZaz09Mm_-.".utf8)
            var checked = 0
            for _ in 0..<400 {
                let line = (0..<Int(random.next() % 120)).map { _ in random.pick(alphabet) }
                let word = String(repeating: random.pick(["A", "b", "7"]), count: Int(random.next() % 40))
                let event = Event(
                    timeNanos: 0,
                    observedNanos: 0,
                    host: "h",
                    source: "s",
                    line: line + Array(" \(word) End".utf8),
                    fields: [
                        Event.Field("program", random.pick(["sshd", "CRON", "x-Y_z9", ""])),
                        Event.Field("Action", "Login OK " + word), Event.Field("ip", "203.0.113.7"),
                    ]
                )
                let layout = try EventLayout(try EventCodec.encode([event]), count: 1)
                let entry = layout.entries[0]
                let program = IndexedSpans(layout, entry).program
                let a = fast.tokens(layout, entry, program: program)
                let b = sqlite.tokens(layout, entry, program: program)
                #expect(a.line == b.line, "\(line)")
                #expect(a.attributes == b.attributes)
                checked += Int(b.line.count)
            }
            #expect(checked > 4_000)
        }
    }

    @Test("the 8-byte letter-or-digit test agrees with the byte test for every ASCII byte at every position")
    func tokenBytesExhaustive() {
        for fill in [UInt8(0x20), 0x61, 0x5a, 0x7f, 0x00] {
            for position in 0..<8 {
                for byte in UInt8(0)..<0x80 {
                    var bytes = [UInt8](repeating: fill, count: 8)
                    bytes[position] = byte
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let mask = EventTokenizer.tokenBytes(word)
                    for index in 0..<8 {
                        let value = bytes[index]
                        let isToken =
                            (0x30...0x39).contains(value) || (0x41...0x5a).contains(value)
                            || (0x61...0x7a).contains(value)
                        #expect((mask >> UInt64(index * 8 + 7)) & 1 == (isToken ? 1 : 0), "\(bytes) at \(index)")
                    }
                }
            }
        }
    }
}
