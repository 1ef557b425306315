/// Text from a log line, an agent or a bundle made safe for an HTML page: escaped for element content and quoted
/// attribute values alike, with what a reader could not see (control characters, bidirectional overrides, invisible
/// formatting) replaced by its code point, visibly.
///
/// Log lines are written by whoever can log on a workstation, so nothing from the store reaches the page unescaped:
/// `<script>` and `"><img onerror=…>` become text. Invalid UTF-8 is already U+FFFD (`�`) in a Swift string.
public enum HTMLText {
    /// `text` for element content or a double- or single-quoted attribute value.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if let visible = Self.visible(scalar) {
                    out += visible
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// ``escape(_:)`` of at most `limit` characters, marked when cut.
    public static func escape(_ text: String, limit: Int) -> String {
        guard text.count > limit else { return Self.escape(text) }
        return Self.escape(String(text.prefix(limit))) + "… [\(text.count - limit) more characters]"
    }

    /// What an invisible or misleading scalar is shown as; nil for an ordinary one: C0 and C1 control characters
    /// (tab and terminal escapes included), DEL, bidirectional controls, zero-width characters and line or
    /// paragraph separators become their code point in brackets, `[U+001B]`, in plain ASCII that every font shows
    /// (they could colour, reorder or hide the text around them).
    static func visible(_ scalar: Unicode.Scalar) -> String? {
        let value = scalar.value
        switch value {
        case 0x00...0x1F, 0x7F...0x9F, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2069, 0xFEFF, 0xFFF9...0xFFFB:
            let hex = String(value, radix: 16, uppercase: true)
            return "[U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
        default:
            return nil
        }
    }
}
