import FlightlogEvidence
import FlightlogSigma
import FlightlogStore

/// What a `hunt` did with its rules, written after them: how many were loaded, run and matched; which were not run
/// and why; which can never match on this store because a field they test is in no stored event.
struct HuntSummary {
    var loaded: Int
    var run = 0
    var matched = 0
    /// Rules run that matched nothing and were not printed (`--matched-only`).
    var hiddenUnmatched = 0
    var logsourceNamed = 0
    var logsourceNarrowed = 0
    var notRun: [(SigmaRule, String)] = []
    var cannotMatch: [(SigmaRule, [String])] = []

    init(loaded: Int) { self.loaded = loaded }

    func write(_ format: ListFormat, _ out: BufferedWriter) {
        if format == .jsonl {
            out.write(self.json())
            return
        }
        var text = "== summary\n"
        text += "   \(self.loaded) rules loaded, \(self.run) run, \(self.matched) matched"
        text += self.notRun.isEmpty ? "\n" : ", \(self.notRun.count) not run\n"
        if self.hiddenUnmatched > 0 {
            text += "   \(self.hiddenUnmatched) run and matched nothing (not printed: --matched-only)\n"
        }
        for (rule, why) in self.notRun { text += "   not run: \(rule.title) (\(rule.file)): \(why)\n" }
        if !self.cannotMatch.isEmpty {
            text += "   \(self.cannotMatch.count) run but can never match on this store: a field they test is in no "
            text += "stored event\n"
            var byField: [String: Int] = [:]
            for (_, fields) in self.cannotMatch { for field in fields { byField[field, default: 0] += 1 } }
            let ranked = byField.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            text += "     fields: " + ranked.map { "\($0.key) (\($0.value))" }.joined(separator: ", ") + "\n"
            for (rule, fields) in self.cannotMatch {
                text += "     \(rule.title) (\(rule.file)): \(fields.joined(separator: ", "))\n"
            }
        }
        if self.logsourceNamed > 0 {
            let named = self.logsourceNamed
            text += "   logsource: \(self.logsourceNarrowed) of the \(named) rules that name one searched "
            text += "only its programs or audit view (the pipeline's add_condition); the others searched every stored "
            text += "event in the window\n"
        }
        out.write(text)
    }

    private func json() -> [UInt8] {
        func string(_ text: String) -> String {
            var bytes: [UInt8] = []
            FieldsJSON.appendString(text, to: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        let notRun = self.notRun.map { rule, why in
            "{\"rule\":\(string(rule.title)),\"file\":\(string(rule.file)),\"why\":\(string(why))}"
        }
        let cannotMatch = self.cannotMatch.map { rule, fields in
            var list: [UInt8] = []
            FieldsJSON.appendStringArray(fields, to: &list)
            return "{\"rule\":\(string(rule.title)),\"file\":\(string(rule.file)),\"absent_fields\":"
                + String(decoding: list, as: UTF8.self) + "}"
        }
        let line =
            "{\"type\":\"summary\",\"loaded\":\(self.loaded),\"run\":\(self.run),\"matched\":\(self.matched),"
            + "\"not_run\":[" + notRun.joined(separator: ",") + "],\"cannot_match\":["
            + cannotMatch.joined(separator: ",") + "],\"logsource_named\":\(self.logsourceNamed),"
            + "\"logsource_narrowed\":\(self.logsourceNarrowed)}\n"
        return Array(line.utf8)
    }
}
