import FlightlogStore
import FlightlogTestSupport
import GRDB
import Testing

/// What a `--match` expression needs of a batch's tokens (``TokenRequirement``): the PostgreSQL store reads only the
/// batches that have them. Never more than the expression needs, or a batch with a match would be skipped.
@Suite("Full text: the tokens a --match needs")
struct TokenRequirementTests {
    @Test func eachFormOfTheQuerySyntaxNeedsWhatItNames() throws {
        let tokenizer = try LineTokenizer()
        let cases: [(String, TokenRequirement)] = [
            ("Failed", .tokens(["failed"])),
            ("Failed password", .all([.tokens(["failed"]), .tokens(["password"])])),
            ("Failed AND password", .all([.tokens(["failed"]), .tokens(["password"])])),
            ("\"Failed password\"", .tokens(["failed", "password"])),
            ("sshd OR kernel", .any([.tokens(["sshd"]), .tokens(["kernel"])])),
            ("invalid NOT user", .tokens(["invalid"])),
            ("authentic*", .nothing),
            ("\"session open\"*", .tokens(["session"])),
            ("pam_unix", .tokens(["pam", "unix"])),
            (
                "error AND (client OR mod_jk)",
                .all([.tokens(["error"]), .any([.tokens(["client"]), .tokens(["mod", "jk"])])])
            ),
            ("NEAR(session opened, 3)", .tokens(["session", "opened"])),
            ("line: Bye", .tokens(["bye"])),
            ("{line program}: Bye", .tokens(["bye"])),
            ("^Dec + 10", .tokens(["dec", "10"])),
            ("Café", .tokens(["cafe"])),
            ("a OR b*", .nothing),
            ("\"unterminated", .nothing),
            ("AND AND", .nothing),
            ("( x", .nothing),
        ]
        for (expression, expected) in cases {
            #expect(TokenRequirement.of(match: expression, tokenizer: tokenizer) == expected, "\(expression)")
        }
    }

    /// The hashes of a line's tokens are those of the tokens SQLite's own unicode61 tokenizer finds: the fast ASCII
    /// path and the path through SQLite alike, on lines of every kind.
    @Test func aLinesTokenHashesAreThoseOfTheIndexTokenizersTokens() throws {
        let tokenizer = try LineTokenizer()
        let reference = try DatabaseQueue().inDatabase { db in try db.makeTokenizer(.unicode61()) }
        var random = SeededRandom(state: 7)
        let alphabet = Array("abcXYZ019 _-.:/[]()=\"'\t\u{7f}".utf8)
        var lines = [
            "Dec 10 sshd[24200]: Failed password for ROOT from 1.2.3.4 port 22 ssh2",
            "Café ÉTÉ naïve ωμέγα 東京 ﬁle", "", "   ", "a", "A1b2-C3_d4",
        ].map { Array($0.utf8) }
        for _ in 0..<500 {
            lines.append(
                (0..<Int(random.next() % 40)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            )
        }
        for line in lines {
            var found: Set<UInt64> = []
            line.withUnsafeBufferPointer { tokenizer.addTokenHashes(of: $0, to: &found) }
            let expected = Set(
                try reference.tokenize(document: String(decoding: line, as: UTF8.self)).map {
                    TokenBloom.hash($0.token.utf8)
                }
            )
            #expect(found == expected, "\(String(decoding: line, as: UTF8.self))")
        }
    }

    /// Every token put in is found; of tokens not put in, about one in a hundred seems to be.
    @Test func aBloomFilterNeverMissesAndRarelyLies() {
        let members = Set((0..<3_000).map { TokenBloom.hash("member-\($0)".utf8) })
        let filter = TokenBloom.make(members)
        #expect(filter.count == 3_000 * TokenBloom.bitsPerToken / 8)
        #expect(members.allSatisfy { TokenBloom.mayContain(filter, $0) })
        let others = (0..<10_000).filter { TokenBloom.mayContain(filter, TokenBloom.hash("other-\($0)".utf8)) }.count
        #expect(others < 300, "\(others) false positives in 10,000")
        #expect(!TokenBloom.mayContain(TokenBloom.make([]), TokenBloom.hash("x".utf8)))
    }
}
