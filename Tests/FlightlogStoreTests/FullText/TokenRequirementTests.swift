import FlightlogStore
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

    @Test func aLineHasTheTokensTheIndexFinds() throws {
        let tokenizer = try LineTokenizer()
        var tokens: Set<String> = []
        tokenizer.addTokens(
            of: Array("Dec 10 sshd[24200]: Failed password for ROOT from 1.2.3.4 Café".utf8),
            to: &tokens
        )
        #expect(
            tokens == [
                "dec", "10", "sshd", "24200", "failed", "password", "for", "root", "from", "1", "2", "3", "4", "cafe",
            ]
        )
    }
}
