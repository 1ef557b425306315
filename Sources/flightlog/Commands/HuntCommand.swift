import ArgumentParser
import FlightlogEvidence
import FlightlogSigma
import FlightlogStore
import Foundation

struct HuntCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hunt",
        abstract: "Run Sigma rules against the store and print the matches of each rule.",
        discussion: """
            Loads each --rules file, and every *.yml / *.yaml file in each --rules folder and the folders under it \
            (a path with no rule is an error, exit 2), translates each rule's detection to SQL over the indexed \
            columns (host, user, src_ip, program, source, severity, the raw line) and the parsed fields, and runs \
            it with the same filters as `flightlog query`. Supported: selections as maps (AND) and lists (OR), \
            modifiers contains, startswith, endswith, all, re (with its flags i, m, s), cidr, gt, gte, lt, lte, \
            fieldref, exists, base64, base64offset, windash (only expand is not); * and ? wildcards; keywords lists (substring of the \
            raw line, also '|all': lists); conditions with and, or, not, parentheses, 1 of / all of (patterns or \
            them). Matching is case-insensitive for every letter, as Sigma specifies; keywords and contains match \
            anywhere, inside words too; a field that repeats matches when any of its values does. The full-text \
            index only narrows the search: the result is the same with it or without it. Every unsupported feature is printed under its rule: a rule \
            whose detection cannot be translated is not run; timeframe and aggregations (| count() …) are dropped \
            and the rule is run as an approximation, which is said too.

            Correlation rules (Sigma 2.0) relate the matches of other rules, named by their name or id anywhere \
            in --rules (a file may hold several rules separated by ---): types event_count, value_count, \
            temporal and temporal_ordered, with group-by, timespan, condition (gt, gte, lt, lte, eq; field for \
            value_count), aliases and generate; correlations of correlations too. Each hit prints its group, \
            how many matches it holds and its time span, then its events. A rule that a correlation names is \
            not run on its own unless that correlation says generate: true. Windows reach timespan forward from \
            the earliest match not yet in a hit; a match is in at most one hit of a rule. Events without a \
            group-by field are left out of the correlation. When every rule must match, the later rules are \
            read only around the first rule's matches (its groups, within timespan), through the indexes of \
            host, user and src_ip.

            Speed: when every event a rule can match is found by full-text searches, the candidates come from \
            the indexes and the exact comparison runs on those only, unless they are more than 1 event in 50. \
            Keywords and comparisons on message use the index of the raw line, which knows where words begin: \
            it is searched for the words a match must hold whole ("export" for "bulk export"), and a keyword of \
            one word ("anydesk") scans, since it may sit inside a longer word. The result is the same either \
            way. Equality and startswith on program or a parsed field use the index of program and \
            fields, exactly; contains, endswith and re on a parsed field narrow to events that have the field. \
            Events the indexer has not reached yet are always checked. Rules that need a negation only, or \
            match many events, scan the whole store; narrow them with --since/--until/--host. --limit stops \
            each rule early.

            --limit caps the hits of a correlation rule.

            Exit status: 0 when any rule matched, 1 when none did, 2 on an error. Recorded in the audit trail.

            Examples:
              flightlog hunt --db flightlog.db --rules /etc/flightlog/rules
              flightlog hunt --db flightlog.db --rules sigma/rules/linux --since 2026-11-24 --matched-only
              flightlog hunt --db flightlog.db --rules sigma/rules/linux --rules sigma/rules/web --pipeline site.yml
              flightlog hunt --db flightlog.db --rules aggregator/rules --since 2026-11-24 --format jsonl
              flightlog hunt --store postgres://flightlog@db1/flightlog --rules aggregator/rules --since 1d
              flightlog hunt --db flightlog.db --rules aggregator/rules --format jsonl | jq 'select(.type == "hit")'
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var filters: EventFilterOptions

    @Option(
        help: ArgumentHelp(
            "A Sigma rule file, or a folder of them searched recursively (*.yml, *.yaml); repeatable. "
                + "Example: --rules aggregator/rules --rules sigma/rules/linux",
            valueName: "path"
        )
    )
    var rules: [String] = []

    @Option(
        help: ArgumentHelp(
            "A Sigma processing pipeline (pySigma's YAML: field_name_mapping, add_condition, logsource conditions) "
                + "applied after the built-in one; repeatable. Example: --pipeline site-fields.yml",
            valueName: "file"
        )
    )
    var pipeline: [String] = []

    @Flag(help: "Do not apply the built-in pipeline (aggregator/sigma/flightlog-pipeline.yml): run rules as written.")
    var noDefaultPipeline = false

    @Option(help: "At most this many matches per rule. Example: --limit 50")
    var limit: Int?

    @Option(
        help: ArgumentHelp(
            "Output format: table or jsonl: one {\"type\":\"rule\",…} line per rule, then {\"type\":\"match\","
                + "\"rule\":…,\"event\":{…}} per match; a correlation writes {\"type\":\"hit\",\"hit\":N,\"group\":{…},"
                + "\"start\":…,\"end\":…,\"matches\":…,\"events\":[ids]} before its matches, which carry \"hit\":N. "
                + "Example: --format jsonl"
        )
    )
    var format: ListFormat = .table

    @Flag(
        help: """
            Table output: print only the rules that matched; the summary still counts the others, names the rules \
            not run and those that can never match here, and says how many matched nothing.
            """
    )
    var matchedOnly = false

    @OptionGroup var timeZone: TimeZoneOptions

    func validate() throws {
        if self.rules.isEmpty { throw ValidationError("pass --rules PATH: a Sigma rule file or a folder of them") }
        if let limit = self.limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        try await Investigation.run { try self.investigate() }
    }

    private func investigate() throws {
        var query = try self.filters.queryOrExit()
        query.limit = self.limit
        let times = try self.timeZone.formatter()
        let loaded = try Self.loadRules(
            self.rules,
            pipelines: self.pipeline,
            defaultPipeline: !self.noDefaultPipeline
        )
        let investigated = try Investigation.open(self.database, self.store)
        defer { investigated.close() }
        let store = investigated.reader
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
        let set = SigmaRuleSet(rules: loaded)
        var summary = HuntSummary(loaded: loaded.count)
        // --matched-only shapes the table; JSONL always carries every rule.
        let hidesUnmatched = self.matchedOnly && self.format == .table
        do {
            let catalogue = try store.catalogue()
            let shared = try Self.sharedPasses(loaded, store: store, query: query)
            for (position, rule) in loaded.enumerated() where rule.generated {
                // Every rule runs; the catalogue only says which cannot match here, and why. `audit_view` is checked
                // by its values below, as the logsource it stands for.
                var absent = rule.detection?.absentFields {
                    $0 == StoreCatalogue.auditViewKey || catalogue.hasField($0)
                }?.sorted()
                // A logsource narrowed to programs none of which wrote a stored event, or to an audit view no stored
                // event carries.
                for condition in rule.addedConditions {
                    var parts = [condition]
                    if case .any(let alternatives) = condition { parts = alternatives }
                    for (field, known) in [
                        ("program", catalogue.programs), (StoreCatalogue.auditViewKey, catalogue.auditViews),
                    ] {
                        let names = parts.compactMap { part -> String? in
                            guard case .match(let match) = part, match.field == field,
                                case .text(let name) = match.value
                            else { return nil }
                            return name
                        }
                        if !names.isEmpty, names.count == parts.count, !names.contains(where: known.contains) {
                            absent = (absent ?? []) + [field + " " + names.joined(separator: "|")]
                        }
                    }
                }
                // With --matched-only the rule's title and notes wait for its first match.
                let pending = PendingText()
                self.header(rule, absent: absent, into: pending)
                if !hidesUnmatched { pending.emit(out) }
                if rule.logsourceNamed { summary.logsourceNamed += 1 }
                if rule.logsourceNarrowed { summary.logsourceNarrowed += 1 }
                guard rule.isRunnable else {
                    summary.notRun.append((rule, rule.unsupported.first ?? "nothing to run"))
                    continue
                }
                summary.run += 1
                if let absent { summary.cannotMatch.append((rule, absent)) }
                let matched: Int
                if rule.correlation != nil {
                    matched = try self.runCorrelation(
                        rule,
                        set: set,
                        store: store,
                        query: query,
                        times: times,
                        printer: printer,
                        pending: pending,
                        out: out
                    )
                } else if let detection = rule.detection {
                    var ruleQuery = query
                    if let ids = shared[position] {
                        // Found in a pass shared with rules that need the same search: read those events only.
                        ruleQuery.rule = TranslatedCondition.everyEvent
                        ruleQuery.eventIDs = ids
                    } else {
                        ruleQuery.rule = SigmaSQLCompiler.compile(detection)
                    }
                    matched = try self.printMatches(
                        rule,
                        hit: nil,
                        store: store,
                        // No event of a shared pass: nothing to read.
                        chunks: ruleQuery.eventIDs?.isEmpty == true ? [] : [ruleQuery],
                        times: times,
                        printer: printer,
                        pending: pending,
                        out: out
                    )
                } else {
                    continue
                }
                if self.format == .table, matched > 0 || !hidesUnmatched {
                    let (one, many) = rule.correlation == nil ? ("match", "matches") : ("hit", "hits")
                    out.write("   \(matched) \(matched == 1 ? one : many)\n\n")
                }
                if matched > 0 { summary.matched += 1 } else if hidesUnmatched { summary.hiddenUnmatched += 1 }
                total += matched
            }
            summary.write(self.format, out)
            _ = try out.finish()
        } catch {
            try investigated.fail("hunt", error)
        }
        try investigated.audit(
            "hunt",
            count: total,
            outcome: total > 0 ? "ok" : "no match"
        )
        if total == 0 { throw ExitCode(1) }
    }

    /// The Sigma rules at `paths` (files and folder trees), each with the built-in pipeline (unless told not to) and
    /// then `pipelines` applied; an unreadable path, rule or pipeline is an error (exit 2). Shared with `export
    /// --rules`.
    static func loadRules(
        _ paths: [String],
        pipelines: [String],
        defaultPipeline: Bool
    ) throws(ExitCode) -> [SigmaRule] {
        var loaded: [SigmaRule]
        do {
            loaded = try SigmaRule.load(paths: paths)
        } catch let error as SigmaLoadError {
            Output.error("\(error): pass --rules PATH, a Sigma rule file or a folder of them (searched recursively)")
            throw ExitCode(2)
        } catch {
            let paths = paths.joined(separator: ", ")
            Output.error("cannot read the rules at \(paths): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        var applied = defaultPipeline ? [SigmaPipeline.builtIn] : []
        for file in pipelines {
            guard let data = FileManager.default.contents(atPath: file) else {
                Output.error("cannot read the pipeline \(file)")
                throw ExitCode(2)
            }
            do {
                applied.append(try SigmaPipeline(yaml: String(decoding: data, as: UTF8.self)))
            } catch {
                Output.error("the pipeline \(file) cannot be used: \(error)")
                throw ExitCode(2)
            }
        }
        return loaded.map { rule in applied.reduce(rule) { $1.apply(to: $0) } }
    }

    /// The rule's title line and notes (table), or its `rule` object (JSONL); `absent`: the fields it tests that no
    /// stored event has, when they keep it from matching.
    private func header(_ rule: SigmaRule, absent: [String]?, into out: PendingText) {
        if self.format == .table {
            out.write("== \(rule.title) [\(rule.level ?? "-")] \(rule.file)\n")
            if let absent {
                let names = absent.joined(separator: ", ")
                let mapped = rule.pipelineApplied.isEmpty ? "" : " (its fields as the pipeline maps them)"
                out.write("   can never match on this store: no stored event has \(names)\(mapped)\n")
            }
            for note in rule.unsupported { out.write("   note: \(note)\n") }
            return
        }
        var line: [UInt8] = Array("{\"type\":\"rule\",\"rule\":".utf8)
        FieldsJSON.appendString(rule.title, to: &line)
        line += ",\"file\":".utf8
        FieldsJSON.appendString(rule.file, to: &line)
        if let correlation = rule.correlation {
            line += ",\"correlation\":".utf8
            FieldsJSON.appendString(correlation.kind.rawValue, to: &line)
        }
        if let absent {
            line += ",\"absent_fields\":".utf8
            FieldsJSON.appendStringArray(absent, to: &line)
        }
        line += ",\"run\":\(rule.isRunnable),\"notes\":".utf8
        FieldsJSON.appendStringArray(rule.unsupported, to: &line)
        line += "}\n".utf8
        out.write(line)
    }

    /// Runs a correlation rule: one line per hit (its group, time span and size), then its events, oldest first.
    /// Returns the number of hits.
    private func runCorrelation(
        _ rule: SigmaRule,
        set: SigmaRuleSet,
        store: any EventReading,
        query: EventQuery,
        times: TimeFormatter,
        printer: EventPrinter,
        pending: PendingText,
        out: BufferedWriter
    ) throws -> Int {
        let hits = try store.correlate(rule, in: set, query: query)
        var eventsQuery = query
        eventsQuery.limit = nil
        eventsQuery.order = .asc
        for (offset, hit) in hits.enumerated() {
            let ordinal = offset + 1
            pending.emit(out)
            if self.format == .table {
                let group = hit.group.map { "\($0.field)=\($0.value)" }.joined(separator: " ")
                out.write(
                    "   hit \(ordinal): \(group.isEmpty ? "(all events)" : group), \(hit.matches) matches, "
                        + "\(times.format(hit.start)) → \(times.format(hit.end))\n"
                )
            } else {
                var line: [UInt8] = Array("{\"type\":\"hit\",\"rule\":".utf8)
                FieldsJSON.appendString(rule.title, to: &line)
                line += ",\"hit\":\(ordinal),\"group\":{".utf8
                for (index, value) in hit.group.enumerated() {
                    if index > 0 { line.append(UInt8(ascii: ",")) }
                    FieldsJSON.appendString(value.field, to: &line)
                    line.append(UInt8(ascii: ":"))
                    FieldsJSON.appendString(value.value, to: &line)
                }
                line += "},\"start\":".utf8
                FieldsJSON.appendString(times.format(hit.start), to: &line)
                line += ",\"end\":".utf8
                FieldsJSON.appendString(times.format(hit.end), to: &line)
                line += ",\"matches\":\(hit.matches),\"events\":[".utf8
                line += hit.eventIDs.map(String.init).joined(separator: ",").utf8
                line += "]}\n".utf8
                out.write(line)
            }
            // At most 5,000 ids per query, well under SQLite's limit on bound parameters.
            let chunks = stride(from: 0, to: hit.eventIDs.count, by: 5_000).map { start in
                var chunk = eventsQuery
                chunk.eventIDs = Array(hit.eventIDs[start..<min(start + 5_000, hit.eventIDs.count)])
                return chunk
            }
            _ = try self.printMatches(
                rule,
                hit: ordinal,
                store: store,
                chunks: chunks,
                times: times,
                printer: printer,
                pending: pending,
                out: out
            )
            if out.isBroken { break }
        }
        return hits.count
    }

    /// Prints the events each query selects, as table rows or `match` objects; returns how many.
    /// At most this many ids go into one query as `id IN (…)` (SQLite takes 32,766 parameters): a rule matching more
    /// reads the store on its own.
    static let sharedPassMaxMatches = 10_000

    /// The events each single rule (no correlation) selects, by the rule's position in `rules`, found in passes that
    /// rules needing the same full-text search (or a scan) share; a rule not in the result runs on its own (as the
    /// one rule of a hunt does when it has full-text candidates).
    static func sharedPasses(
        _ rules: [SigmaRule],
        store: any EventReading,
        query: EventQuery
    ) throws -> [Int: [Int64]] {
        guard query.eventIDs == nil else { return [:] }
        var positions: [Int] = []
        var conditions: [TranslatedCondition] = []
        for (position, rule) in rules.enumerated()
        where rule.generated && rule.isRunnable && rule.correlation == nil {
            guard let detection = rule.detection else { continue }
            positions.append(position)
            conditions.append(SigmaSQLCompiler.compile(detection))
        }
        // One rule alone runs its own query (narrower than its group's pass when it has full-text candidates, and
        // stopped early by --limit), unless it scans the whole store: a scan in id ranges on every processor is
        // faster.
        let scansAlone = conditions.count == 1 && conditions[0].fullTextExpression == nil && query.limit == nil
        guard conditions.count > 1 || scansAlone else { return [:] }
        var found: [Int: [Int64]] = [:]
        let sets = try store.matchingEventIDs(conditions, query, maxMatches: Self.sharedPassMaxMatches)
        for (position, ids) in zip(positions, sets) { found[position] = ids }
        return found
    }

    private func printMatches(
        _ rule: SigmaRule,
        hit: Int?,
        store: any EventReading,
        chunks: [EventQuery],
        times: TimeFormatter,
        printer: EventPrinter,
        pending: PendingText,
        out: BufferedWriter
    ) throws -> Int {
        var matched = 0
        var prefix: [UInt8] = Array("{\"type\":\"match\",\"rule\":".utf8)
        FieldsJSON.appendString(rule.title, to: &prefix)
        if let hit { prefix += ",\"hit\":\(hit)".utf8 }
        prefix += ",\"event\":".utf8
        for chunk in chunks {
            if self.format == .table {
                matched += try store.forEachEvent(chunk) { event in
                    pending.emit(out)
                    if hit != nil { out.write("  ") }
                    printer.print(event)
                    return !out.isBroken
                }
            } else {
                matched += try store.forEachEventJSON(chunk, times: times) { (object: inout [UInt8]) -> Bool in
                    pending.emit(out)
                    out.write(prefix)
                    object += "}\n".utf8
                    out.write(object)
                    return !out.isBroken
                }
            }
            if out.isBroken { break }
        }
        return matched
    }
}

/// Text held back until something follows it: a rule's title and notes under `--matched-only`, written before its
/// first match or hit, or never.
final class PendingText {
    private var text: [UInt8] = []

    func write(_ line: String) { self.text += line.utf8 }

    func write(_ bytes: [UInt8]) { self.text += bytes }

    /// Writes the held text to `out`, once.
    func emit(_ out: BufferedWriter) {
        guard !self.text.isEmpty else { return }
        out.write(self.text)
        self.text = []
    }
}
