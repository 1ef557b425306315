import FlightlogEvidence
public import FlightlogSigma
import Foundation

/// Compiles a Sigma detection (``SigmaExpression``) into SQL over the indexed columns and
/// `json_extract(fields, …)`, with the full-text searches that find its candidates.
///
/// Comparisons mean what ``SigmaText`` and ``SigmaEvaluator`` say (case-insensitive, keywords and `contains` found
/// anywhere, any value of a repeated field), except `re` (`REGEXP`, as written); `SigmaDifferentialTests` holds the
/// compiled SQL to that on random rules and events, with the full-text index in every state.
///
/// Full-text candidates: when every event the condition can match must be found by some full-text searches, the
/// query first takes those events from the full-text index and runs the exact condition on them only, instead of
/// scanning every event. Its columns serve: `line` holds the raw line's words (keywords, and comparisons other than
/// `re` on `message`/`line`/`raw`), `program` and `fields` hold `program` and each parsed field as `key value` (see
/// ``FieldsDocument``). The index knows where words begin, not substrings, so a keyword's full-text search leaves
/// out its first word when that word may be the end of a longer one (`bulk export` searches `export`, and `export`
/// alone is a scan): the result never depends on whether the index was used. See
/// ``fullTextPhrase(substring:)``. Searches
/// on `program` and `fields` lose nothing: equality and `startswith` search the value's start, `contains`/`endswith`/`re`
/// on a field search for the field's name. Events the indexer has not reached yet are always checked too.
public enum SigmaSQLCompiler {
    /// The condition to run for `detection`.
    public static func compile(_ detection: SigmaExpression) -> TranslatedCondition {
        var arguments: [String] = []
        let part = Self.part(detection, &arguments)
        return TranslatedCondition(
            sql: part.sql,
            arguments: arguments,
            candidates: part.candidates,
            expression: detection
        )
    }

    /// The full-text searches a comparison `field|modifier: value` is narrowed by, in the words of
    /// ``TranslatedCondition/fullTextExpression`` (for tests and `--help`), or nil when it is scanned.
    public static func candidateDescription(
        field: String,
        modifier: SigmaModifier = .equals,
        value: String
    ) -> String? {
        Self.candidates(column: EventColumn.named(field), field: field, modifier: modifier, text: value)?.description
    }

    /// A compiled piece of the condition: its SQL, and a set of full-text searches that every event it matches is
    /// found by (nil when none is known).
    struct Part {
        var sql: String
        var candidates: CandidateSet?

        /// Both hold: the candidates need whichever of the two are known.
        static func all(_ parts: [Part]) -> Part {
            guard !parts.isEmpty else { return Part(sql: "1") }
            let known = parts.compactMap(\.candidates)
            return Part(
                sql: parts.count == 1 ? parts[0].sql : "(" + parts.map(\.sql).joined(separator: " AND ") + ")",
                candidates: known.isEmpty ? nil : known.count == 1 ? known[0] : .all(known)
            )
        }

        /// Either holds: the candidates are known only when they are known for every alternative.
        static func any(_ parts: [Part]) -> Part {
            guard !parts.isEmpty else { return Part(sql: "0") }
            let known = parts.compactMap(\.candidates)
            return Part(
                sql: parts.count == 1 ? parts[0].sql : "(" + parts.map(\.sql).joined(separator: " OR ") + ")",
                candidates: known.count < parts.count ? nil : known.count == 1 ? known[0] : .any(known)
            )
        }
    }

    static func part(_ expression: SigmaExpression, _ arguments: inout [String]) -> Part {
        // One substring search in the line alone is a list of one (see ``any(_:_:)``).
        if Self.substringSearch(expression)?.key == EventColumn.line.sql { return Self.any([expression], &arguments) }
        return Self.singlePart(expression, &arguments)
    }

    /// ``part(_:_:)``, with each comparison compiled on its own.
    static func singlePart(_ expression: SigmaExpression, _ arguments: inout [String]) -> Part {
        switch expression {
        case .all(let parts): return Part.all(parts.map { Self.part($0, &arguments) })
        case .any(let parts): return Self.any(parts, &arguments)
        case .not(let inner):
            // Nothing is known about what a negation matches.
            return Part(sql: "NOT COALESCE(" + Self.part(inner, &arguments).sql + ", 0)")
        case .always: return Part(sql: "1")
        case .keyword(let text):
            return Part(
                sql: Self.comparison(EventColumn.line.sql, .contains, text, &arguments),
                candidates: Self.fullTextPhrase(substring: text).map(CandidateSet.line)
            )
        case .match(let match): return Self.match(match, &arguments)
        }
    }

    /// Either of `parts` holds. The alternatives that look for a plain ASCII substring in one value (a keyword list
    /// in the line, `contains` with a list of values on one column or one parsed field, or one keyword) are
    /// tested by one `sigma_contains_any` of the value (``SubstringSetFunction``) instead of one `LIKE` each: the
    /// same answer, with the value read and scanned once. Their full-text candidates are theirs, as if they stood
    /// apart.
    static func any(_ parts: [SigmaExpression], _ arguments: inout [String]) -> Part {
        let searches = parts.map(Self.substringSearch)
        var members: [String: [Int]] = [:]
        for (index, search) in searches.enumerated() {
            if let search { members[search.key, default: []].append(index) }
        }
        var compiled: [Part] = []
        for (index, part) in parts.enumerated() {
            // One value alone stays a `LIKE` (its search is vectorised, ours is not), except on the line, which
            // `LIKE` would need copied out of its batch first.
            guard let search = searches[index], let group = members[search.key],
                group.count > 1 || search.key == EventColumn.line.sql
            else {
                compiled.append(Self.part(part, &arguments))
                continue
            }
            guard group[0] == index else { continue }
            // Each member compiled apart for its candidates only; its SQL and arguments are not used.
            var unused: [String] = []
            let candidates = Part.any(group.map { Self.singlePart(parts[$0], &unused) }).candidates
            let texts = group.compactMap { searches[$0]?.text }
            compiled.append(Part(sql: Self.containsAny(search.field, texts, &arguments), candidates: candidates))
        }
        return Part.any(compiled)
    }

    /// A substring search `sigma_contains_any` can make: the value searched (`key`, one per column or parsed field),
    /// the field (nil: the line) and the text; nil for anything else (wildcards, text that is not ASCII, `re`…).
    static func substringSearch(_ expression: SigmaExpression) -> (key: String, field: String?, text: String)? {
        switch expression {
        case .keyword(let text):
            guard Self.plainSubstring(text) else { return nil }
            return (EventColumn.line.sql, nil, text)
        case .match(let match):
            guard match.modifier == .contains, case .text(let text) = match.value, Self.plainSubstring(text) else {
                return nil
            }
            if let column = EventColumn.named(match.field) { return (column.sql, match.field, text) }
            return ("fields:" + FieldSchema.flightlogName(match.field), match.field, text)
        default: return nil
        }
    }

    /// Text that `contains` compiles to a `LIKE` whose only wildcard is `%`: ASCII, without Sigma's `?` (one
    /// character, which may be several bytes) or escapes; Sigma's `*` is `sigma_contains_any`'s too.
    static func plainSubstring(_ text: String) -> Bool {
        SubstringSetFunction.accepts(text)
            && !text.utf8.contains { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "\\") }
    }

    /// Whether a value that `text` matches is certain to show `text` in the event's `fields` JSON: FieldsJSON copies
    /// a value unchanged unless it holds `"`, `\` or a control character, so a text without them (nor a `?`, which
    /// could stand for one of them, written as two characters) is found there, in the matching value's place.
    static func foundInFieldsJSON(_ text: String) -> Bool {
        !text.utf8.contains {
            $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "?")
        }
    }

    /// SQL that holds when some value of `field` (nil: the line) contains one of `texts` (each ``plainSubstring(_:)``).
    static func containsAny(_ field: String?, _ texts: [String], _ arguments: inout [String]) -> String {
        let patterns = SubstringSetFunction.argument(texts)
        func test(_ value: String, _ arguments: inout [String]) -> String {
            arguments.append(patterns)
            return SubstringSetFunction.name + "(" + value + ", ?)"
        }
        let column = field.flatMap(EventColumn.named)
        guard let field, column != .line else {
            arguments.append(patterns)
            return EventContentFunctions.lineContainsAny()
        }
        // As in ``match(_:_:)``: a parsed field's texts are looked for in `fields` first.
        guard column == nil, texts.allSatisfy(Self.foundInFieldsJSON) else {
            return Self.anyValue(field, &arguments, test)
        }
        arguments.append(patterns)
        let prefilter = EventContentFunctions.fieldsContainsAny()
        return "(" + prefilter + " AND " + Self.anyValue(field, &arguments, test) + ")"
    }

    static func match(_ match: SigmaFieldMatch, _ arguments: inout [String]) -> Part {
        let column = EventColumn.named(match.field)
        guard case .text(let text) = match.value else {
            if let column { return Part(sql: column.sql + " IS NULL") }
            arguments.append(FieldCondition.jsonPath(FieldSchema.flightlogName(match.field)))
            return Part(sql: "json_extract(\(EventContentFunctions.fields()), ?) IS NULL")
        }
        let candidates = Self.candidates(
            column: column,
            field: FieldSchema.flightlogName(match.field),
            modifier: match.modifier,
            text: text
        )
        if match.modifier == .fieldref {
            // Some value of the field equals some value of the field named, folded as SigmaText folds.
            let sql = Self.anyValue(match.field, &arguments) { mine, arguments in
                Self.anyValue(text, &arguments) { theirs, _ in "sigma_same(" + mine + ", " + theirs + ")" }
            }
            return Part(sql: sql, candidates: candidates)
        }
        if let column {
            return Part(sql: Self.comparison(column.sql, match.modifier, text, &arguments), candidates: candidates)
        }
        // A parsed field's key may repeat: `fields` then holds it once per value (FieldsJSON keeps duplicate keys),
        // and json_extract would read the first only. The comparison holds when any value satisfies it, so it runs
        // over json_each's members of that key. A cheap necessary condition first (``foundInFieldsJSON(_:)``); most
        // rows then skip the JSON parse.
        var prefilter: String?
        if match.modifier.comparesText, Self.foundInFieldsJSON(text) {
            if Self.plainSubstring(text) {
                // What `LIKE '%text%'` finds, searched once per row with every other rule's (``SubstringMemo``).
                arguments.append(SubstringSetFunction.argument([text]))
                prefilter = EventContentFunctions.fieldsContainsAny()
            } else {
                prefilter = Self.comparison(EventContentFunctions.fields(), .contains, text, &arguments)
            }
        }
        var sql = Self.anyValue(match.field, &arguments) { value, arguments in
            Self.comparison(value, match.modifier, text, &arguments)
        }
        if let prefilter { sql = "(" + prefilter + " AND " + sql + ")" }
        return Part(sql: sql, candidates: candidates)
    }

    /// SQL that holds when some value of `field` satisfies `predicate` (given the SQL of one value): the column a
    /// well-known name means, or each member of `fields` under that key.
    static func anyValue(
        _ field: String,
        _ arguments: inout [String],
        _ predicate: (String, inout [String]) -> String
    ) -> String {
        if let column = EventColumn.named(field) { return predicate(column.sql, &arguments) }
        let alias = "j\(arguments.count)"
        arguments.append(FieldSchema.flightlogName(field))
        return "EXISTS (SELECT 1 FROM json_each(\(EventContentFunctions.fields())) \(alias) WHERE \(alias).key = ? AND "
            + predicate(alias + ".value", &arguments) + ")"
    }

    /// `value` compared with `text` under `modifier`, as ``SigmaText`` defines it. SQLite folds the case of ASCII
    /// letters only, in `LIKE` and `COLLATE NOCASE`; so these serve text that is all ASCII, and any other text is
    /// compared by `sigma_match` (``SigmaMatchFunction``), which folds every letter. One known difference: an ASCII
    /// value's letters also match the two non-ASCII letters that fold to ASCII ones (KELVIN SIGN to `k`, LONG S to
    /// `s`) under ``SigmaText``, not under `LIKE`.
    static func comparison(
        _ value: String,
        _ modifier: SigmaModifier,
        _ text: String,
        _ arguments: inout [String]
    ) -> String {
        if modifier == .re {
            arguments.append(text)
            return value + " REGEXP ?"
        }
        guard SigmaText.isASCII(text), modifier.comparesText else {
            arguments.append(modifier.rawValue)
            arguments.append(text)
            return "sigma_match(" + value + ", ?, ?)"
        }
        switch modifier {
        case .contains: return Self.like(value, "%" + Self.likePattern(text) + "%", &arguments)
        case .startswith: return Self.like(value, Self.likePattern(text) + "%", &arguments)
        case .endswith: return Self.like(value, "%" + Self.likePattern(text), &arguments)
        case .equals, .re, .cidr, .gt, .gte, .lt, .lte, .fieldref:
            if text.contains(where: { $0 == "*" || $0 == "?" || $0 == "\\" }) {
                return Self.like(value, Self.likePattern(text), &arguments)
            }
            arguments.append(text)
            return value + " = ? COLLATE NOCASE"
        }
    }

    static func like(_ column: String, _ pattern: String, _ arguments: inout [String]) -> String {
        arguments.append(pattern)
        return column + " LIKE ? ESCAPE '\\'"
    }

    // MARK: - Full text

    /// The full-text search implied by one field comparison, or nil when none is.
    ///
    /// - The raw line (`message`, `line`, `raw`): the `line` column, with the word-start rule of
    ///   ``fullTextPhrase(_:prefix:)``. `endswith` on the line ends at the line's end and starts where it likes,
    ///   which that rule covers like `contains`.
    /// - `program`, and parsed fields: the `program` and `fields` columns (each field as `key value`, see
    ///   ``FieldsDocument``). These are whatever the agent sent, not necessarily in the line, hence their own
    ///   columns. Here nothing is approximated: an equality, a `startswith` or a wildcard pattern's literal start is
    ///   where the value begins, so the value's words are found exactly; `contains`, `endswith` and `re` on a parsed
    ///   field need the field to be present, so its name is searched; on `program` they have no full-text side.
    /// - The other columns (host, user, source IP, source, severity) have B-tree indexes, not full-text ones.
    static func candidates(
        column: EventColumn?,
        field name: String,
        modifier: SigmaModifier,
        text: String
    ) -> CandidateSet? {
        switch column {
        case .line:
            switch modifier {
            case .re, .cidr, .gt, .gte, .lt, .lte, .fieldref: return nil
            // The line starts with the value: its first word starts a word of the line.
            case .equals, .startswith: return Self.fullTextPhrase(text).map(CandidateSet.line)
            case .contains, .endswith: return Self.fullTextPhrase(substring: text).map(CandidateSet.line)
            }
        case .program:
            guard let start = Self.literalStart(modifier: modifier, text: text),
                let phrase = Self.fullTextPhrase(start.text, prefix: !start.whole)
            else { return nil }
            return .attrs("{program} : " + phrase)
        case nil:
            if let start = Self.literalStart(modifier: modifier, text: text),
                let phrase = Self.fullTextPhrase(name + " " + start.text, prefix: !start.whole)
            {
                return .attrs("{fields} : " + phrase)
            }
            return Self.fullTextPhrase(name + " ", prefix: false).map { .attrs("{fields} : " + $0) }
        case .host, .user, .sourceIP, .source, .severity:
            return nil
        }
    }

    /// What a comparison says about the start of the value: all of it (`whole`, an equality without wildcards),
    /// or its first characters (a `startswith`, or a pattern up to its first wildcard); nil when nothing (`contains`,
    /// `endswith`, `re`, or an escape, which is left to the scan).
    static func literalStart(modifier: SigmaModifier, text: String) -> (text: String, whole: Bool)? {
        guard modifier == .equals || modifier == .startswith, !text.contains("\\") else { return nil }
        guard let wildcard = text.firstIndex(where: { $0 == "*" || $0 == "?" }) else {
            return (text, modifier == .equals)
        }
        return (String(text[..<wildcard]), false)
    }

    /// An FTS5 phrase that every line holding `text` anywhere holds: ``fullTextPhrase(_:prefix:)`` of `text` without
    /// its first word when `text` starts with a letter or digit, since that word may end a longer word of the line
    /// (`export` is in `reexport`, `bulk_export` in `xbulk_export`). Nil, a scan, when no whole word is left
    /// (`export`, `anydesk`): the full-text index knows where words begin, never where they end, and a keyword is a
    /// substring wherever it falls (Sigma's `contains`).
    public static func fullTextPhrase(substring text: String) -> String? {
        // A wildcard or escape anywhere: what stands before the first word boundary is unknown. A letter that is not
        // ASCII is part of a word for the index (unicode61), not a boundary.
        guard SigmaText.isASCII(text), !text.contains(where: { $0 == "*" || $0 == "?" || $0 == "\\" }) else {
            return nil
        }
        guard let first = text.utf8.first, Self.isWordByte(first) else { return Self.fullTextPhrase(text) }
        guard let separator = text.utf8.firstIndex(where: { !Self.isWordByte($0) }) else { return nil }
        return Self.fullTextPhrase(String(text[separator...].drop { !$0.isASCII || !$0.isLetter && !$0.isNumber }))
    }

    static func isWordByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// An FTS5 phrase for a keyword: its words in order, the last one as a prefix (`"bulk export" *` for
    /// `bulk_export`).
    ///
    /// The index uses `unicode61`: ASCII letters and digits make words, everything else separates them, case is
    /// folded. A line that contains the keyword therefore holds this phrase, except when the keyword starts in the
    /// middle of a word (`xbulk_export`): a full-text search cannot find word endings, so a keyword is found where
    /// a word begins. The exact LIKE comparison still runs on every candidate. Nil (no full-text side, a scan)
    /// when the keyword has Sigma wildcards or escapes, non-ASCII characters, or no letter or digit at all.
    public static func fullTextPhrase(_ text: String, prefix: Bool = true) -> String? {
        let bytes = Array(text.utf8)
        guard let last = bytes.last, bytes.allSatisfy({ $0 < 0x80 && $0 >= 0x20 }),
            bytes.contains(where: Self.isWordByte),
            !bytes.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "\\") })
        else { return nil }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            + (prefix && Self.isWordByte(last) ? " *" : "")
    }

    /// Sigma wildcards (`*`, `?`, with `\` escaping) as a LIKE pattern whose own `%`, `_` and `\` are escaped.
    static func likePattern(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped {
                escaped = false
                // `\*`, `\?`, `\\`: the character itself; before anything else the backslash is itself (SigmaText).
                switch character {
                case "*", "?": out += String(character)
                case "\\": out += "\\\\"
                case "%", "_": out += "\\\\\\" + String(character)
                default: out += "\\\\" + String(character)
                }
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
