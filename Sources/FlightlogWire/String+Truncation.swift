extension String {
    /// The longest prefix whose UTF-8 form fits in `maxBytes`, cut on a character boundary.
    public func truncatedToUTF8Length(_ maxBytes: Int) -> String {
        if self.utf8.count <= maxBytes { return self }
        var result = ""
        var used = 0
        for character in self {
            let size = character.utf8.count
            if used + size > maxBytes { break }
            result.append(character)
            used += size
        }
        return result
    }
}
