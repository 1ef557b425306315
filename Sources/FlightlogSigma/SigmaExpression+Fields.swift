extension SigmaExpression {
    /// The fields whose absence from every event makes this expression unable to match, given which fields exist
    /// (`isPresent`); nil when it can match. A `null` comparison, a keyword and a negation can always match; `all`
    /// fails when any part fails, `any` only when every part does.
    public func absentFields(isPresent: (String) -> Bool) -> Set<String>? {
        switch self {
        case .always, .keyword, .not: return nil
        case .match(let match):
            guard case .text(let text) = match.value else { return nil }
            var absent: Set<String> = isPresent(match.field) ? [] : [match.field]
            if match.modifier == .fieldref, !isPresent(text) { absent.insert(text) }
            return absent.isEmpty ? nil : absent
        case .all(let parts):
            let failing = parts.compactMap { $0.absentFields(isPresent: isPresent) }
            return failing.isEmpty ? nil : failing.reduce(into: Set<String>()) { $0.formUnion($1) }
        case .any(let parts):
            var absent: Set<String> = []
            for part in parts {
                guard let fields = part.absentFields(isPresent: isPresent) else { return nil }
                absent.formUnion(fields)
            }
            return parts.isEmpty ? nil : absent
        }
    }
}
