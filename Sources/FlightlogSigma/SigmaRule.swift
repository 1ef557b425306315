import Foundation
import Yams

/// A Sigma detection rule (Sigma specification 2.0), read from YAML: its metadata, its detection as a
/// ``SigmaExpression`` or its correlation, and what of it this implementation does not do.
///
/// Supported: `detection` selections as maps (AND) or lists of maps (OR), value lists (OR, or AND with `|all`),
/// modifiers `contains`, `startswith`, `endswith`, `re`, `all`; `*` and `?` wildcards; `keywords` lists (substring of
/// the raw line); `condition` with `and`, `or`, `not`, parentheses, `1 of X*`, `all of X*`, `1 of them`,
/// `all of them`. Anything else is reported in ``unsupported``: a rule whose detection cannot be read is not run; a
/// rule whose extras (such as `timeframe` or an aggregation after `|`) are dropped is run as an approximation, and
/// says so.
public struct SigmaRule: Sendable {
    public var file: String
    public var title: String
    public var id: String?
    public var level: String?
    /// The rule's `logsource` (product, service, category, …), as written; not used to narrow the search.
    public var logsource: [String: String] = [:]
    /// Whether the rule names a logsource.
    public var logsourceNamed: Bool { !self.logsource.isEmpty }
    /// Whether a pipeline's `add_condition` narrowed the search to its logsource (``SigmaPipeline``).
    public var logsourceNarrowed = false
    /// The pipeline transformations that applied to it, by id.
    public var pipelineApplied: [String] = []
    /// The conditions a pipeline's `add_condition` added to its detection (each a field's values, any of them).
    public var addedConditions: [SigmaExpression] = []
    /// The `name` other rules refer to it by (correlations).
    public var name: String?
    /// The detection's condition, or nil when it could not be read (or the rule is a correlation).
    public var detection: SigmaExpression?
    /// The correlation section of a correlation rule, when it could be read.
    public var correlation: SigmaCorrelation?
    /// Whether `hunt` runs the rule on its own: false for a rule a correlation refers to, unless it says
    /// `generate: true` (Sigma's default).
    public var generated = true
    /// What this translation does not do, in plain words.
    public var unsupported: [String]

    /// Whether there is something to run: a detection or a correlation whose rules all resolved.
    public var isRunnable: Bool { self.detection != nil || self.correlation != nil }

    /// Loads every `*.yml` / `*.yaml` file in `directory` and its subfolders: ``load(paths:)`` of one folder.
    public static func load(directory: String) throws -> [SigmaRule] {
        try Self.load(paths: [directory])
    }

    /// Loads the rules at each of `paths`: a rule file, or every `*.yml` / `*.yaml` file in a folder tree (as
    /// SigmaHQ's `rules/linux/…` is laid out), sorted by their path under it; hidden files and folders are skipped.
    /// A file that is not YAML becomes a rule with no condition and the reason. A file may hold several rules as YAML
    /// documents separated by `---` (a correlation and the rules it relates, as Sigma's specification shows).
    /// Correlations are resolved across all of them. Throws ``SigmaLoadError`` for a path that is missing or holds
    /// no rule file: an empty rule set would read as "nothing matched".
    public static func load(paths: [String]) throws -> [SigmaRule] {
        var rules: [SigmaRule] = []
        for path in paths {
            let files = try Self.ruleFiles(at: path)
            guard !files.isEmpty else { throw SigmaLoadError.noRuleFiles(path) }
            for (name, file) in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    rules.append(
                        SigmaRule(file: name, title: name, detection: nil, unsupported: ["cannot read the file"])
                    )
                    continue
                }
                rules += Self.documents(file: name, yaml: String(decoding: data, as: UTF8.self))
            }
        }
        return Self.resolvingCorrelations(rules)
    }

    /// The rule files at `path` as (name shown, path): the file itself, or the `*.yml` / `*.yaml` files of the
    /// folder tree, named by their path relative to it.
    static func ruleFiles(at path: String) throws -> [(String, String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SigmaLoadError.missing(path)
        }
        guard isDirectory.boolValue else { return [((path as NSString).lastPathComponent, path)] }
        let root = URL(fileURLWithPath: path, isDirectory: true)
        guard
            let walker = FileManager.default.enumerator(
                at: root,
                includingPropertiesForKeys: [.isRegularFileKey],
                options: [.skipsHiddenFiles]
            )
        else { throw SigmaLoadError.unreadable(path) }
        var found: [(String, String)] = []
        let prefix = root.standardizedFileURL.path + "/"
        for case let url as URL in walker where url.pathExtension == "yml" || url.pathExtension == "yaml" {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            let full = url.standardizedFileURL.path
            let relative = full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : url.lastPathComponent
            found.append((relative, full))
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// Every rule document in one file's text (correlations not yet resolved: see ``load(paths:)``).
    public static func documents(file: String, yaml: String) -> [SigmaRule] {
        var documents: [Any] = []
        do {
            var sequence = try Yams.load_all(yaml: yaml)
            while let document = sequence.next() { documents.append(document) }
            if let error = sequence.error { throw error }
        } catch {
            var rule = SigmaRule(file: file, title: file, detection: nil, unsupported: [])
            rule.unsupported.append("not valid YAML: \(error)")
            return [rule]
        }
        return documents.map { SigmaRule(file: file, document: $0) }
    }

    /// Finds the rules each correlation names, marks them as not run on their own unless it says
    /// `generate: true`, and carries their notes over; a correlation naming an unknown rule, itself, or a rule
    /// that cannot run is not run.
    public static func resolvingCorrelations(_ loaded: [SigmaRule]) -> [SigmaRule] {
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
        detection: SigmaExpression?,
        unsupported: [String]
    ) {
        self.file = file
        self.title = title
        self.id = id
        self.level = level
        self.detection = detection
        self.unsupported = unsupported
    }

    /// Parses one rule (the first document of `yaml`).
    public init(file: String, yaml: String) {
        let document: Any?
        do {
            document = try Yams.load(yaml: yaml)
        } catch {
            self.init(file: file, title: file, detection: nil, unsupported: ["not valid YAML: \(error)"])
            return
        }
        self.init(file: file, document: document as Any)
    }

    /// Reads one parsed rule document.
    init(file: String, document: Any) {
        self.init(file: file, title: file, detection: nil, unsupported: [])
        guard let rule = document as? [String: Any] else {
            self.unsupported.append("not a Sigma rule (the document is not a map)")
            return
        }
        self.title = rule["title"] as? String ?? file
        self.id = rule["id"] as? String
        self.level = rule["level"] as? String
        if let source = rule["logsource"] as? [String: Any] {
            self.logsource = source.compactMapValues { SigmaConditionParser.scalar($0) }
        }
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
                "aggregation '\(String(conditionText[pipe...]).trimmingCharacters(in: .whitespacesAndNewlines))' is not supported: each matching event is listed instead (approximation)"
            )
            conditionText = String(conditionText[..<pipe])
        }
        do {
            var parser = SigmaConditionParser(selections: detection)
            self.detection = try parser.parse(condition: conditionText)
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
