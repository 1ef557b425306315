import FlightlogSigma
import FlightlogTestSupport
import Testing

/// Comparisons of ASCII texts without wildcards are answered on the bytes (``SigmaText``'s fast path): the answers
/// must be those of the general matcher, which folds both sides into scalars and runs the wildcard automaton.
@Suite("Sigma text: the ASCII fast path")
struct SigmaTextFastPathTests {
    @Test func answersAsTheGeneralMatcherDoes() {
        var random = SeededRandom(state: 42)
        let alphabet = Array("aAbB zZ-_.:/0\u{7f}".unicodeScalars)
        func text(_ length: Int) -> String {
            String(
                String.UnicodeScalarView(
                    (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
                )
            )
        }
        for _ in 0..<20_000 {
            let value = text(Int(random.next() % 12))
            let pattern = text(Int(random.next() % 4))
            let tokens = SigmaText.tokens(pattern)
            let general: [(SigmaModifier, [SigmaText.Token])] = [
                (.equals, tokens), (.contains, [.anyRun] + tokens + [.anyRun]), (.startswith, tokens + [.anyRun]),
                (.endswith, [.anyRun] + tokens),
            ]
            for (modifier, expected) in general {
                #expect(
                    SigmaText.matches(value, modifier, pattern) == SigmaText.matches(value, expected),
                    "\(modifier) '\(pattern)' on '\(value)'"
                )
            }
        }
        // Not taken: a non-ASCII value (the Kelvin sign folds to k), a wildcard.
        #expect(SigmaText.matches("\u{212A}elvin", .startswith, "kel"))
        #expect(SigmaText.matches("bulk export", .contains, "bulk*port"))
    }
}
