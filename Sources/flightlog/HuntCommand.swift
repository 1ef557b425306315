import ArgumentParser
import FlightlogStore
import Foundation

struct HuntCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hunt",
        abstract: "Run Sigma rules against the store and print the matches of each rule.",
        discussion: """
            Loads every *.yml / *.yaml file in --rules, translates each rule's detection to SQL over the indexed \
            columns (host, user, src_ip, program, source, severity, the raw line) and the parsed fields, and runs \
            it with the same filters as `flightlog query`. Supported: selections as maps (AND) and lists (OR), \
            modifiers contains, startswith, endswith, re, all; * and ? wildcards; keywords lists (substring of the \
            raw line); conditions with and, or, not, parentheses, 1 of / all of (patterns or them). Matching is \
            case-insensitive, as Sigma specifies. Every unsupported feature is printed under its rule: a rule \
            whose detection cannot be translated is not run; timeframe and aggregations (| count() …) are dropped \
            and the rule is run as an approximation, which is said too.

            Speed: when every event a rule can match is found by full-text searches, the candidates come from \
            the indexes and the exact comparison runs on those only, unless they are more than 1 event in 50. \
            Keywords and comparisons on message use the index of the raw line, which knows words, not \
            substrings: such a keyword matches where a word begins ("export" finds "export_job" but not \
            "reexport"). Equality and startswith on program or a parsed field use the index of program and \
            fields, exactly; contains, endswith and re on a parsed field narrow to events that have the field. \
            Events the indexer has not reached yet are always checked. Rules that need a negation only, or \
            match many events, scan the whole store; narrow them with --since/--until/--host. --limit stops \
            each rule early.

            Exit status: 0 when any rule matched, 1 when none did, 2 on an error. Recorded in the audit trail.

            Examples:
              flightlog hunt --db flightlog.db --rules /etc/flightlog/rules
              flightlog hunt --db flightlog.db --rules aggregator/rules --since 2026-11-24 --format jsonl
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var filters: EventFilterOptions

    @Option(help: ArgumentHelp("Directory of Sigma rules (*.yml). Example: --rules aggregator/rules", valueName: "dir"))
    var rules: String

    @Option(help: "At most this many matches per rule. Example: --limit 50")
    var limit: Int?

    @Option(help: "Output format: table or jsonl (each line {\"rule\":…,\"event\":{…}}). Example: --format jsonl")
    var format: ListFormat = .table

    @Option(
        help: ArgumentHelp(
            "Print times in this IANA time zone instead of UTC. Example: --tz Europe/Paris",
            valueName: "zone"
        )
    )
    var tz: String?

    func run() throws {
        let db = self.database.db
        var query = try self.filters.queryOrExit()
        query.limit = self.limit
        let times = try Investigation.zone(self.tz)
        let loaded: [SigmaRule]
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: self.rules, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            Output.error("no rules directory at \(self.rules): pass --rules DIR, a directory of Sigma *.yml files")
            throw ExitCode(2)
        }
        do {
            loaded = try SigmaRule.load(directory: self.rules)
        } catch {
            Output.error("cannot read the rules directory \(self.rules): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        let store = try Investigation.openStore(db)
        Terminal.ignoreBrokenPipe()
        let out = BufferedWriter.standardOutput()
        let printer = EventPrinter(
            format: .table,
            times: times,
            clock: query.clock,
            out: out,
            width: Terminal.width(),
            csvRaw: false
        )
        var total = 0
        do {
            for rule in loaded {
                if self.format == .table {
                    out.write("== \(rule.title) [\(rule.level ?? "-")] \(rule.file)\n")
                    for note in rule.unsupported { out.write("   note: \(note)\n") }
                } else {
                    var line: [UInt8] = Array("{\"type\":\"rule\",\"rule\":".utf8)
                    FieldsJSON.appendString(rule.title, to: &line)
                    line += ",\"file\":".utf8
                    FieldsJSON.appendString(rule.file, to: &line)
                    line += ",\"run\":\(rule.condition != nil),\"notes\":[".utf8
                    line +=
                        rule.unsupported.map { note -> String in
                            var bytes: [UInt8] = []
                            FieldsJSON.appendString(note, to: &bytes)
                            return String(decoding: bytes, as: UTF8.self)
                        }.joined(separator: ",").utf8
                    line += "]}\n".utf8
                    out.write(line)
                }
                guard let condition = rule.condition else { continue }
                var ruleQuery = query
                ruleQuery.rule = condition
                let matched: Int
                if self.format == .table {
                    matched = try store.forEachEvent(ruleQuery) { event in
                        printer.print(event)
                        return !out.isBroken
                    }
                } else {
                    var prefix: [UInt8] = Array("{\"type\":\"match\",\"rule\":".utf8)
                    FieldsJSON.appendString(rule.title, to: &prefix)
                    prefix += ",\"event\":".utf8
                    matched = try store.forEachEventJSON(ruleQuery, times: times) { (object: inout [UInt8]) -> Bool in
                        out.write(prefix)
                        object += "}\n".utf8
                        out.write(object)
                        return !out.isBroken
                    }
                }
                if self.format == .table { out.write("   \(matched) match\(matched == 1 ? "" : "es")\n\n") }
                total += matched
            }
            _ = try out.finish()
        } catch {
            try Investigation.fail("hunt", database: db, error)
        }
        try Investigation.audit("hunt", database: db, count: total, outcome: total > 0 ? "ok" : "no match")
        if total == 0 { throw ExitCode(1) }
    }
}
