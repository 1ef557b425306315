import FlightlogEvidence
import Foundation
import Yams

/// A Sigma detection rule translated to SQL over the indexed columns and `json_extract(fields, …)`.
///
/// Supported: `detection` selections as maps (AND) or lists of maps (OR), value lists (OR, or AND with `|all`),
/// modifiers `contains`, `startswith`, `endswith`, `re`, `all`; `*` and `?` wildcards; `keywords` lists (substring of
/// the raw line); `condition` with `and`, `or`, `not`, parentheses, `1 of X*`, `all of X*`, `1 of them`,
/// `all of them`. Matching is case-insensitive for ASCII, as Sigma specifies (except `re`, which is as written).
/// Anything else is reported in ``unsupported``: a rule whose detection cannot be translated is not run; a rule
/// whose extras (such as `timeframe` or an aggregation after `|`) are dropped is run as an approximation, and says so.
///
/// Full-text candidates: when every event the condition can match must be found by some full-text searches, the
/// query first takes those events from the full-text index and runs the exact condition on them only, instead of
/// scanning every event. Its columns serve: `line` holds the raw line's words (keywords, and comparisons other than
/// `re` on `message`/`line`/`raw`), `program` and `fields` hold `program` and each parsed field as `key value` (see
/// ``FieldsDocument``). The index knows words, not substrings, so a keyword is found where a word begins:
/// `export` finds `report export` and `export_job` but not `reexport`. See ``fullTextPhrase(_:prefix:)``. Searches
/// on `program` and `fields` lose nothing: equality and `startswith` search the value's start, `contains`/`endswith`/`re`
/// on a field search for the field's name. Events the indexer has not reached yet are always checked too.
public struct SigmaRule: Sendable {
    public var file: String
    public var title: String
    public var id: String?
    public var level: String?
    /// The `name` other rules refer to it by (correlations).
    public var name: String?
    /// The translated condition, or nil when the detection could not be translated (or the rule is a correlation).
    public var condition: TranslatedCondition?
    /// The correlation section of a correlation rule, when it could be read.
    public var correlation: SigmaCorrelation?
    /// Whether `hunt` runs the rule on its own: false for a rule a correlation refers to, unless it says
    /// `generate: true` (Sigma's default).
    public var generated = true
    /// What this translation does not do, in plain words.
    public var unsupported: [String]

    /// Whether there is something to run: a translated detection or a correlation whose rules all resolved.
    public var isRunnable: Bool { self.condition != nil || self.correlation != nil }

    /// Field names that map onto indexed columns; any other field is looked up in the parsed fields.
    static let columns: [String: String] = [
        "host": "e.host", "hostname": "e.host", "computername": "e.host", "computer": "e.host",
        "user": "e.user", "username": "e.user", "targetusername": "e.user", "subjectusername": "e.user",
        "src_ip": "e.src_ip", "sourceip": "e.src_ip", "ipaddress": "e.src_ip", "clientip": "e.src_ip", "ip": "e.src_ip",
        "program": "e.program", "processname": "e.program", "process": "e.program",
        "source": "e.source", "severity": "e.severity",
        "message": "CAST(e.line AS TEXT)", "line": "CAST(e.line AS TEXT)", "raw": "CAST(e.line AS TEXT)",
    ]

    /// The FTS5 phrase a keyword is searched with (see the type's notes on full text), or nil when it is not.
    public static func fullTextPhrase(_ keyword: String) -> String? { SigmaTranslator.fullTextPhrase(keyword) }

    /// The full-text searches a comparison `field|modifier: value` is narrowed by, in the words of
    /// ``TranslatedCondition/fullTextExpression`` (for tests and `--help`), or nil when it is scanned.
    public static func candidateDescription(field: String, modifier: String = "equals", value: String) -> String? {
        let column = Self.columns[field.lowercased()] ?? "json_extract(e.fields, ?)"
        return SigmaTranslator.candidates(column: column, field: field, kind: modifier, text: value)?.description
    }

    /// Loads every `*.yml` / `*.yaml` file in `directory` (sorted by name); a file that is not YAML becomes a rule
    /// with no condition and the reason.
    /// A file may hold several rules as YAML documents separated by `---` (a correlation and the rules it
    /// relates, as Sigma's specification shows).
    public static func load(directory: String) throws -> [SigmaRule] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted()
        let rules = names.flatMap { name in
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                return [SigmaRule(file: name, title: name, condition: nil, unsupported: ["cannot read the file"])]
            }
            return Self.documents(file: name, yaml: String(decoding: data, as: UTF8.self))
        }
        return Self.resolvingCorrelations(rules)
    }

    /// Every rule document in one file's text (correlations not yet resolved: see ``load(directory:)``).
    public static func documents(file: String, yaml: String) -> [SigmaRule] {
        var documents: [Any] = []
        do {
            var sequence = try Yams.load_all(yaml: yaml)
            while let document = sequence.next() { documents.append(document) }
            if let error = sequence.error { throw error }
        } catch {
            var rule = SigmaRule(file: file, title: file, condition: nil, unsupported: [])
            rule.unsupported.append("not valid YAML: \(error)")
            return [rule]
        }
        return documents.map { SigmaRule(file: file, document: $0) }
    }

    /// Finds the rules each correlation names, marks them as not run on their own unless it says
    /// `generate: true`, and carries their notes over; a correlation naming an unknown rule, itself, or a rule
    /// that cannot run is not run.
    static func resolvingCorrelations(_ loaded: [SigmaRule]) -> [SigmaRule] {
        var rules = loaded
        let set = SigmaRuleSet(rules: loaded)
        for index in rules.indices {
            guard let correlation = rules[index].correlation else { continue }
            var problems: [String] = []
            var notes: [String] = []
            for reference in correlation.rules {
                guard let target = set.rule(reference) else {
                    problems.append("it refers to '\(reference)', which no rule in the directory has as name or id")
                    continue
                }
                let namesakes = loaded.filter { $0.answers(to: reference) }
                if namesakes.count > 1 {
                    notes.append(
                        "'\(reference)' names \(namesakes.count) rules ("
                            + namesakes.map(\.file).joined(separator: ", ")
                            + "): the first with that name, else that id, is used"
                    )
                }
                if set.reaches(from: reference, to: rules[index]) {
                    problems.append("it refers to itself through '\(reference)'")
                } else if !target.isRunnable {
                    problems.append("its rule '\(reference)' cannot run")
                }
                notes += target.unsupported.map { "\(reference): \($0)" }
            }
            rules[index].unsupported += notes
            if !problems.isEmpty {
                rules[index].correlation = nil
                rules[index].unsupported += problems.map { "not run: " + $0 }
            }
        }
        for rule in rules {
            guard let correlation = rule.correlation, !correlation.generate else { continue }
            for reference in correlation.rules {
                for index in rules.indices where rules[index].answers(to: reference) { rules[index].generated = false }
            }
        }
        return rules
    }

    /// Whether `reference` names this rule.
    func answers(to reference: String) -> Bool { self.name == reference || self.id == reference }

    init(
        file: String,
        title: String,
        id: String? = nil,
        level: String? = nil,
        condition: TranslatedCondition?,
        unsupported: [String]
    ) {
        self.file = file
        self.title = title
        self.id = id
        self.level = level
        self.condition = condition
        self.unsupported = unsupported
    }

    /// Parses and translates one rule (the first document of `yaml`).
    public init(file: String, yaml: String) {
        let document: Any?
        do {
            document = try Yams.load(yaml: yaml)
        } catch {
            self.init(file: file, title: file, condition: nil, unsupported: ["not valid YAML: \(error)"])
            return
        }
        self.init(file: file, document: document as Any)
    }

    /// Translates one parsed rule document.
    init(file: String, document: Any) {
        self.init(file: file, title: file, condition: nil, unsupported: [])
        guard let rule = document as? [String: Any] else {
            self.unsupported.append("not a Sigma rule (the document is not a map)")
            return
        }
        self.title = rule["title"] as? String ?? file
        self.id = rule["id"] as? String
        self.level = rule["level"] as? String
        self.name = rule["name"] as? String
        if let section = rule["correlation"] {
            do {
                guard let map = section as? [String: Any] else { throw SigmaError("correlation is not a map") }
                // The specification puts `generate` beside `correlation`; pySigma also reads it inside.
                let generate = rule["generate"] as? Bool ?? map["generate"] as? Bool ?? false
                let correlation = try SigmaCorrelation(map, generate: generate)
                self.correlation = correlation
                self.unsupported += correlation.ignoredKeys.map { "correlation key '\($0)' is not supported: ignored" }
            } catch {
                self.unsupported.append("not run: \(error)")
            }
            return
        }
        if rule["logsource"] != nil {
            self.unsupported.append("logsource is not used to narrow the search: every stored event is searched")
        }
        guard var detection = rule["detection"] as? [String: Any] else {
            self.unsupported.append("no detection section")
            return
        }
        if detection["timeframe"] != nil {
            self.unsupported.append(
                "timeframe is not supported: matches are not limited to one time window (approximation)"
            )
            detection["timeframe"] = nil
        }
        guard
            var conditionText = (detection["condition"] as? String)
                ?? (detection["condition"] as? [String])?.joined(separator: " or ")
        else {
            self.unsupported.append("detection has no condition")
            return
        }
        detection["condition"] = nil
        if let pipe = conditionText.firstIndex(of: "|") {
            self.unsupported.append(
                "aggregation '\(String(conditionText[pipe...]).trimmingWhitespace)' is not supported: each matching event is listed instead (approximation)"
            )
            conditionText = String(conditionText[..<pipe])
        }
        do {
            var translator = SigmaTranslator(selections: detection)
            self.condition = try translator.translate(condition: conditionText)
        } catch {
            self.unsupported.append("not run: \(error)")
        }
    }
}

/// The rules of one directory, found by the `name` or `id` correlations refer to them by.
public struct SigmaRuleSet: Sendable {
    public var rules: [SigmaRule]

    public init(rules: [SigmaRule]) { self.rules = rules }

    /// The rule whose `name`, else whose `id`, is `reference`.
    public func rule(_ reference: String) -> SigmaRule? {
        self.rules.first { $0.name == reference } ?? self.rules.first { $0.id == reference }
    }

    /// Whether following correlations from the rule named `reference` comes back to `rule`.
    func reaches(from reference: String, to rule: SigmaRule) -> Bool {
        var pending = [reference]
        var seen: Set<String> = []
        while let next = pending.popLast() {
            guard seen.insert(next).inserted, let found = self.rule(next) else { continue }
            if (rule.name != nil && found.name == rule.name) || (rule.id != nil && found.id == rule.id) { return true }
            pending += found.correlation?.rules ?? []
        }
        return false
    }
}

/// Why a detection could not be translated.
struct SigmaError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Turns a detection's selections and condition into SQL.
struct SigmaTranslator {
    let selections: [String: Any]
    var arguments: [String] = []
    /// How deep `not` and parentheses nest where the parser is; bounded, since each level is a recursive call and
    /// a rule file is input: thousands of levels would overflow the stack.
    private var depth = 0
    /// The deepest nesting accepted; SigmaHQ's rules nest a few levels.
    static let maxDepth = 64

    init(selections: [String: Any]) {
        self.selections = selections
    }

    mutating func translate(condition: String) throws -> TranslatedCondition {
        var tokens = Self.tokenize(condition)[...]
        let part = try self.parseOr(&tokens)
        guard tokens.isEmpty else { throw SigmaError("unexpected '\(tokens.first ?? "")' in condition '\(condition)'") }
        return TranslatedCondition(sql: part.sql, arguments: self.arguments, candidates: part.candidates)
    }

    /// A translated piece of the condition: its SQL, and a set of full-text searches that every event it matches
    /// is found by (nil when none is known), used to reach candidates through the indexes instead of a scan.
    struct Part {
        var sql: String
        var candidates: CandidateSet?

        /// Both hold: the candidates need whichever of the two are known.
        static func all(_ parts: [Part]) -> Part {
            let known = parts.compactMap(\.candidates)
            return Part(
                sql: parts.count == 1 ? parts[0].sql : "(" + parts.map(\.sql).joined(separator: " AND ") + ")",
                candidates: known.isEmpty ? nil : known.count == 1 ? known[0] : .all(known)
            )
        }

        /// Either holds: the candidates are known only when they are known for every alternative.
        static func any(_ parts: [Part]) -> Part {
            let known = parts.compactMap(\.candidates)
            return Part(
                sql: parts.count == 1 ? parts[0].sql : "(" + parts.map(\.sql).joined(separator: " OR ") + ")",
                candidates: known.count < parts.count ? nil : known.count == 1 ? known[0] : .any(known)
            )
        }
    }

    // MARK: - Condition grammar

    static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        for character in text {
            if character == "(" || character == ")" {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                tokens.append(String(character))
            } else if character.isWhitespace {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    mutating func parseOr(_ tokens: inout ArraySlice<String>) throws -> Part {
        var parts = [try self.parseAnd(&tokens)]
        while tokens.first?.lowercased() == "or" {
            tokens.removeFirst()
            parts.append(try self.parseAnd(&tokens))
        }
        return Part.any(parts)
    }

    mutating func parseAnd(_ tokens: inout ArraySlice<String>) throws -> Part {
        var parts = [try self.parseNot(&tokens)]
        while tokens.first?.lowercased() == "and" {
            tokens.removeFirst()
            parts.append(try self.parseNot(&tokens))
        }
        return Part.all(parts)
    }

    mutating func parseNot(_ tokens: inout ArraySlice<String>) throws -> Part {
        guard let token = tokens.first else { throw SigmaError("the condition ends too early") }
        self.depth += 1
        defer { self.depth -= 1 }
        guard self.depth <= Self.maxDepth else {
            throw SigmaError("the condition nests 'not' and parentheses deeper than \(Self.maxDepth) levels")
        }
        switch token.lowercased() {
        case "not":
            tokens.removeFirst()
            // Nothing is known about what a negation matches.
            return Part(sql: "NOT COALESCE(" + (try self.parseNot(&tokens)).sql + ", 0)")
        case "(":
            tokens.removeFirst()
            let inner = try self.parseOr(&tokens)
            guard tokens.first == ")" else { throw SigmaError("a parenthesis is not closed") }
            tokens.removeFirst()
            return inner
        case "1", "all", "any":
            tokens.removeFirst()
            guard tokens.first?.lowercased() == "of", let pattern = tokens.dropFirst().first else {
                throw SigmaError("expected '\(token) of PATTERN'")
            }
            tokens.removeFirst(2)
            let names = self.selections.keys.filter { Self.matches(pattern: pattern, name: $0) }.sorted()
            guard !names.isEmpty else { throw SigmaError("no selection matches '\(pattern)'") }
            let parts = try names.map { name in try self.selection(name) }
            return token == "all" ? Part.all(parts) : Part.any(parts)
        default:
            tokens.removeFirst()
            return try self.selection(token)
        }
    }

    static func matches(pattern: String, name: String) -> Bool {
        if pattern == "them" { return true }
        if pattern.hasSuffix("*") { return name.hasPrefix(pattern.dropLast()) }
        return name == pattern
    }

    // MARK: - Selections

    mutating func selection(_ name: String) throws -> Part {
        guard let value = self.selections[name] else {
            throw SigmaError("the condition names '\(name)', which is not defined")
        }
        if let map = value as? [String: Any] {
            return try self.map(map)
        }
        if let list = value as? [Any] {
            if list.allSatisfy({ $0 is [String: Any] }) {
                let parts = try list.compactMap { $0 as? [String: Any] }.map { try self.map($0) }
                return Part(sql: "(" + Part.any(parts).sql + ")", candidates: Part.any(parts).candidates)
            }
            // A list of plain values: keywords, searched for in the raw line.
            let parts = try list.map { item -> Part in
                guard let text = Self.scalar(item) else { throw SigmaError("keyword lists hold plain values only") }
                return Part(
                    sql: self.like("CAST(e.line AS TEXT)", "%" + Self.likePattern(text) + "%"),
                    candidates: Self.fullTextPhrase(text).map(CandidateSet.line)
                )
            }
            return Part(sql: "(" + Part.any(parts).sql + ")", candidates: Part.any(parts).candidates)
        }
        throw SigmaError("selection '\(name)' is neither a map nor a list")
    }

    mutating func map(_ map: [String: Any]) throws -> Part {
        let parts = try map.keys.sorted().map { key in try self.field(key, map[key] as Any) }
        return parts.isEmpty
            ? Part(sql: "1") : Part(sql: "(" + Part.all(parts).sql + ")", candidates: Part.all(parts).candidates)
    }

    mutating func field(_ key: String, _ value: Any) throws -> Part {
        var pieces = key.split(separator: "|").map(String.init)
        let name = pieces.removeFirst()
        var all = false
        var kind = "equals"
        for modifier in pieces {
            switch modifier {
            case "all": all = true
            case "contains", "startswith", "endswith", "re": kind = modifier
            default: throw SigmaError("modifier '\(modifier)' (on \(name)) is not supported")
            }
        }
        let column: String
        if let mapped = SigmaRule.columns[name.lowercased()] {
            column = mapped
        } else {
            guard FieldCondition.isValidFieldName(name) else {
                throw SigmaError("field name '\(name)' cannot be looked up")
            }
            column = "json_extract(e.fields, ?)"
        }
        let values: [Any] = (value as? [Any]) ?? [value]
        var parts: [Part] = []
        for item in values {
            if item is NSNull || (item as? String) == nil && Self.scalar(item) == nil {
                guard item is NSNull else { throw SigmaError("the value of \(name) is not a plain value") }
                if column.hasPrefix("json_extract") { self.arguments.append(FieldCondition.jsonPath(name)) }
                parts.append(Part(sql: column + " IS NULL"))
                continue
            }
            let text = Self.scalar(item) ?? ""
            // A cheap necessary condition first: `fields` is the JSON text FieldsJSON wrote, which copies a value
            // unchanged unless it holds `"`, `\` or a control character, so a value that matches also matches
            // somewhere in that text; most rows then skip json_extract's parse.
            let textPrefilter: String?
            if column.hasPrefix("json_extract"), kind != "re",
                !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
            {
                textPrefilter = self.like("e.fields", "%" + Self.likePattern(text) + "%")
            } else {
                textPrefilter = nil
            }
            if column.hasPrefix("json_extract") { self.arguments.append(FieldCondition.jsonPath(name)) }
            var sql: String
            switch kind {
            case "re":
                do {
                    try RegexFunction.validate(text)
                } catch {
                    throw SigmaError("\(error)")
                }
                self.arguments.append(text)
                sql = column + " REGEXP ?"
            case "contains": sql = self.like(column, "%" + Self.likePattern(text) + "%")
            case "startswith": sql = self.like(column, Self.likePattern(text) + "%")
            case "endswith": sql = self.like(column, "%" + Self.likePattern(text))
            default:
                if text.contains("*") || text.contains("?") {
                    sql = self.like(column, Self.likePattern(text))
                } else {
                    self.arguments.append(text)
                    sql = column + " = ? COLLATE NOCASE"
                }
            }
            if let textPrefilter { sql = "(" + textPrefilter + " AND " + sql + ")" }
            parts.append(
                Part(sql: sql, candidates: Self.candidates(column: column, field: name, kind: kind, text: text))
            )
        }
        let combined = all ? Part.all(parts) : Part.any(parts)
        return Part(sql: "(" + combined.sql + ")", candidates: combined.candidates)
    }

    mutating func like(_ column: String, _ pattern: String) -> String {
        self.arguments.append(pattern)
        return column + " LIKE ? ESCAPE '\\'"
    }

    // MARK: - Full text

    /// The full-text search implied by one field comparison, or nil when none is.
    ///
    /// - The raw line (`message`, `line`, `raw`): the `line` column, with the word-start rule of
    ///   ``fullTextPhrase(_:prefix:)``. `endswith` on the line ends at the line's end and starts where it likes,
    ///   which that rule covers like `contains`.
    /// - `program`, and parsed fields: the `program` and `fields` columns (each field as `key value`, see
    ///   ``FieldsDocument``). These are whatever the agent sent, not necessarily in the line, hence their own columns.
    ///   Here nothing is approximated: an equality, a `startswith` or a wildcard pattern's literal start is where
    ///   the value begins, so the value's words are found exactly; `contains`, `endswith` and `re` on a parsed field
    ///   need the field to be present, so its name is searched; on `program` they have no full-text side.
    static func candidates(column: String, field name: String, kind: String, text: String) -> CandidateSet? {
        switch column {
        case "CAST(e.line AS TEXT)":
            guard kind != "re" else { return nil }
            return Self.fullTextPhrase(text).map(CandidateSet.line)
        case "e.program":
            guard let start = Self.literalStart(kind: kind, text: text),
                let phrase = Self.fullTextPhrase(start.text, prefix: !start.whole)
            else { return nil }
            return .attrs("{program} : " + phrase)
        case "json_extract(e.fields, ?)":
            if let start = Self.literalStart(kind: kind, text: text),
                let phrase = Self.fullTextPhrase(name + " " + start.text, prefix: !start.whole)
            {
                return .attrs("{fields} : " + phrase)
            }
            return Self.fullTextPhrase(name + " ", prefix: false).map { .attrs("{fields} : " + $0) }
        default:
            return nil
        }
    }

    /// What a comparison says about the start of the value: all of it (`whole`, an equality without wildcards),
    /// or its first characters (a `startswith`, or a pattern up to its first wildcard); nil when nothing (`contains`,
    /// `endswith`, `re`, or an escape, which is left to the scan).
    static func literalStart(kind: String, text: String) -> (text: String, whole: Bool)? {
        guard kind == "equals" || kind == "startswith", !text.contains("\\") else { return nil }
        guard let wildcard = text.firstIndex(where: { $0 == "*" || $0 == "?" }) else {
            return (text, kind == "equals")
        }
        return (String(text[..<wildcard]), false)
    }

    /// An FTS5 phrase for a keyword: its words in order, the last one as a prefix (`"bulk export" *` for
    /// `bulk_export`).
    ///
    /// The index uses `unicode61`: ASCII letters and digits make words, everything else separates them, case is
    /// folded. A line that contains the keyword therefore holds this phrase, except when the keyword starts in the
    /// middle of a word (`xbulk_export`): a full-text search cannot find word endings, so a keyword is found where
    /// a word begins. The exact LIKE comparison still runs on every candidate. Nil (no full-text side, a scan)
    /// when the keyword has Sigma wildcards or escapes, non-ASCII characters, or no letter or digit at all.
    static func fullTextPhrase(_ text: String, prefix: Bool = true) -> String? {
        let bytes = Array(text.utf8)
        func isWordByte(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard let last = bytes.last, bytes.allSatisfy({ $0 < 0x80 && $0 >= 0x20 }), bytes.contains(where: isWordByte),
            !bytes.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "\\") })
        else { return nil }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            + (prefix && isWordByte(last) ? " *" : "")
    }

    static func scalar(_ value: Any) -> String? {
        if let text = value as? String { return text }
        if let int = value as? Int { return String(int) }
        if let double = value as? Double { return String(double) }
        if let bool = value as? Bool { return bool ? "true" : "false" }
        return nil
    }

    /// Sigma wildcards (`*`, `?`, with `\` escaping) as a LIKE pattern whose own `%`, `_` and `\` are escaped.
    static func likePattern(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped {
                out += character == "*" || character == "?" ? String(character) : "\\\\" + String(character)
                escaped = false
                continue
            }
            switch character {
            case "\\": escaped = true
            case "*": out += "%"
            case "?": out += "_"
            case "%", "_": out += "\\" + String(character)
            default: out.append(character)
            }
        }
        if escaped { out += "\\\\" }
        return out
    }
}
