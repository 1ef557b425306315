import Foundation

/// How Sigma compares text: case-insensitively, with `*` (any run of characters) and `?` (one character) and their
/// escapes. The reference for every store: a store may compile comparisons into its own query language, but must
/// agree with this (FlightlogStore's differential test checks that it does).
///
/// - Case: both sides are folded character by character with Unicode's simple lowercase mapping (`É` and `é`, `Σ`
///   and `σ`, `İ` stays itself). It equals simple case folding except for a few letters (final sigma `ς`, the
///   Cherokee letters), which fold to themselves here.
/// - Characters are Unicode scalars: `?` is one scalar, as SQLite's `_` is.
/// - Escapes: `\*`, `\?` and `\\` stand for `*`, `?` and `\`; a `\` before anything else, or at the end, is itself.
public enum SigmaText {
    /// One piece of a pattern.
    public enum Token: Equatable, Sendable {
        case literal(Unicode.Scalar)
        case anyRun
        case anyOne
    }

    /// `text`'s wildcards and escapes read into tokens, literals not folded.
    public static func tokens(_ text: String) -> [Token] {
        var tokens: [Token] = []
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar {
            case "*": tokens.append(.anyRun)
            case "?": tokens.append(.anyOne)
            case "\\":
                guard let next = scalars.next() else {
                    tokens.append(.literal("\\"))
                    break
                }
                switch next {
                case "*", "?", "\\": tokens.append(.literal(next))
                default:
                    tokens.append(.literal("\\"))
                    tokens.append(.literal(next))
                }
            default: tokens.append(.literal(scalar))
            }
        }
        return tokens
    }

    /// Whether `text` has a character that is not ASCII.
    public static func isASCII(_ text: String) -> Bool { text.utf8.allSatisfy { $0 < 0x80 } }

    /// `scalar` under the simple lowercase mapping (itself when that mapping is not one scalar).
    public static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.isASCII {
            return ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32) ?? scalar : scalar
        }
        let lower = scalar.properties.lowercaseMapping.unicodeScalars
        guard lower.count == 1, let only = lower.first else { return scalar }
        return only
    }

    /// Whether all of `value` matches all of `pattern` (tokens), case-insensitively.
    public static func matches(_ value: String, _ pattern: [Token]) -> Bool {
        let text = value.unicodeScalars.map(Self.fold)
        let tokens = pattern.map { token -> Token in
            if case .literal(let scalar) = token { return .literal(Self.fold(scalar)) }
            return token
        }
        // Iterative wildcard matching with one backtrack point (the last `*`): linear in practice, O(n·m) at worst.
        var t = 0
        var p = 0
        var star: Int? = nil
        var starText = 0
        while t < text.count {
            if p < tokens.count {
                switch tokens[p] {
                case .anyRun:
                    star = p
                    starText = t
                    p += 1
                    continue
                case .anyOne:
                    t += 1
                    p += 1
                    continue
                case .literal(let scalar) where scalar == text[t]:
                    t += 1
                    p += 1
                    continue
                case .literal:
                    break
                }
            }
            guard let star else { return false }
            p = star + 1
            starText += 1
            t = starText
        }
        while p < tokens.count, tokens[p] == .anyRun { p += 1 }
        return p == tokens.count
    }

    /// Whether `value` satisfies `modifier` with `text` (a Sigma value with wildcards, a network, a number); `re` and
    /// `fieldref` need more than two texts and answer false here (see ``SigmaEvaluator``).
    public static func matches(_ value: String, _ modifier: SigmaModifier, _ text: String) -> Bool {
        if let answer = Self.matchesASCII(value, modifier, text) { return answer }
        let tokens: [Token] = modifier.comparesText ? Self.tokens(text) : []
        switch modifier {
        case .equals: return Self.matches(value, tokens)
        case .contains: return Self.matches(value, [.anyRun] + tokens + [.anyRun])
        case .startswith: return Self.matches(value, tokens + [.anyRun])
        case .endswith: return Self.matches(value, [.anyRun] + tokens)
        case .cidr: return Self.isAddress(value, in: text)
        case .gt, .gte, .lt, .lte: return Self.compares(value, modifier, text)
        case .re, .fieldref: return false
        }
    }
}

// MARK: - ASCII without wildcards

extension SigmaText {
    /// The answer of ``matches(_:_:_:)-(String,SigmaModifier,String)`` when both texts are ASCII and `text` has no
    /// wildcard or escape, found on the bytes (letters folded as they are compared), without folding either text
    /// into scalars first: a hunt on the PostgreSQL store runs every keyword of every rule on every line, and that
    /// took ~2 µs a comparison. Nil otherwise (a non-ASCII character may fold to an ASCII one: `K`, the Kelvin sign).
    static func matchesASCII(_ value: String, _ modifier: SigmaModifier, _ text: String) -> Bool? {
        guard [.equals, .contains, .startswith, .endswith].contains(modifier) else { return nil }
        var pattern = text
        var subject = value
        return pattern.withUTF8 { needle -> Bool? in
            guard
                needle.allSatisfy({
                    $0 < 0x80 && $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "\\")
                })
            else { return nil }
            return subject.withUTF8 { haystack -> Bool? in
                guard haystack.allSatisfy({ $0 < 0x80 }) else { return nil }
                @inline(__always) func fold(_ byte: UInt8) -> UInt8 {
                    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                }
                func same(at start: Int) -> Bool {
                    for index in 0..<needle.count where fold(haystack[start + index]) != fold(needle[index]) {
                        return false
                    }
                    return true
                }
                switch modifier {
                case .equals: return haystack.count == needle.count && same(at: 0)
                case .startswith: return haystack.count >= needle.count && same(at: 0)
                case .endswith: return haystack.count >= needle.count && same(at: haystack.count - needle.count)
                default:
                    guard needle.count <= haystack.count else { return false }
                    guard let first = needle.first.map(fold) else { return true }
                    for start in 0...(haystack.count - needle.count) where fold(haystack[start]) == first {
                        if same(at: start) { return true }
                    }
                    return false
                }
            }
        }
    }
}

// MARK: - Numbers, networks and Sigma's value transforms

extension SigmaText {
    /// A decimal number as Sigma's `gt`/`gte`/`lt`/`lte` compare it: an optional sign, digits, an optional fraction
    /// and exponent (`42`, `-1.5`, `2e3`), with no spaces; nil for anything else (`0x10`, `inf`, `nan`, `1,5`).
    public static func number(_ text: String) -> Double? {
        var bytes = Array(text.utf8)[...]
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        func digits() -> Int {
            var count = 0
            while let byte = bytes.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                bytes = bytes.dropFirst()
                count += 1
            }
            return count
        }
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        var mantissa = digits()
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            mantissa += digits()
        }
        guard mantissa > 0 else { return nil }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return nil }
        }
        guard bytes.isEmpty else { return nil }
        return Double(text)
    }

    /// Whether `value` (a number) compares with `bound` as `modifier` (`gt`, `gte`, `lt`, `lte`) says.
    public static func compares(_ value: String, _ modifier: SigmaModifier, _ bound: String) -> Bool {
        guard let number = Self.number(value), let limit = Self.number(bound) else { return false }
        switch modifier {
        case .gt: return number > limit
        case .gte: return number >= limit
        case .lt: return number < limit
        case .lte: return number <= limit
        default: return false
        }
    }

    /// The 4 or 16 bytes of an IPv4 address in dotted decimal or an IPv6 address in RFC 4291 text (an IPv4 tail
    /// allowed; no zone); nil for anything else.
    public static func address(_ text: String) -> [UInt8]? {
        if !text.contains(":") {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for part in parts {
                guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                    let value = UInt8(part), part.count == 1 || part.first != "0"
                else { return nil }
                bytes.append(value)
            }
            return bytes
        }
        // IPv6: at most one `::`, groups of 1–4 hex digits, an IPv4 address allowed as the last two groups.
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func words(_ part: String, last: Bool) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var out: [UInt16] = []
            let groups = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, group) in groups.enumerated() {
                if last, index == groups.count - 1, group.contains(".") {
                    guard let v4 = Self.address(String(group)), v4.count == 4 else { return nil }
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard (1...4).contains(group.count), group.allSatisfy(\.isHexDigit),
                    let value = UInt16(group, radix: 16)
                else { return nil }
                out.append(value)
            }
            return out
        }
        let gap = halves.count == 2
        guard let head = words(halves[0], last: !gap), let tail = gap ? words(halves[1], last: true) : []
        else { return nil }
        let count = head.count + tail.count
        guard gap ? count < 8 : count == 8 else { return nil }
        let all = head + [UInt16](repeating: 0, count: 8 - count) + tail
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    /// `ADDRESS/BITS`, or an address alone (all its bits), as the network's bytes and its prefix length.
    public static func network(_ text: String) -> (bytes: [UInt8], bits: Int)? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.address(String(parts[0])) else { return nil }
        guard parts.count == 2 else { return (bytes, bytes.count * 8) }
        guard let bits = Int(parts[1]), (0...(bytes.count * 8)).contains(bits), parts[1].allSatisfy(\.isNumber) else {
            return nil
        }
        return (bytes, bits)
    }

    /// Whether the address `value` lies in `network` (same family only).
    public static func isAddress(_ value: String, in network: String) -> Bool {
        guard let address = Self.address(value), let (prefix, bits) = Self.network(network),
            address.count == prefix.count
        else { return false }
        for bit in 0..<bits where (address[bit / 8] ^ prefix[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 {
            return false
        }
        return true
    }

    /// Whether `a` and `b` are the same text once folded (``fold(_:)``): `fieldref`'s comparison.
    public static func sameFolded(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.map(Self.fold) == b.unicodeScalars.map(Self.fold)
    }

    /// Sigma's `base64offset`: the three base64 forms `text` takes inside a longer encoded text, depending on where
    /// it falls (offset 0, 1 or 2 bytes), without the characters its neighbours change.
    public static func base64Offsets(_ text: String) -> [String] {
        let value = Array(text.utf8)
        let starts = [0, 2, 3]
        let ends = [0, 3, 2]  // characters cut from the end, by (length + offset) % 3
        return (0..<3).map { offset in
            let encoded = Array(Data([UInt8](repeating: 0x20, count: offset) + value).base64EncodedString().utf8)
            let cut = ends[(value.count + offset) % 3]
            let lower = min(starts[offset], encoded.count)
            let upper = max(lower, encoded.count - cut)
            return String(decoding: encoded[lower..<upper], as: UTF8.self)
        }
    }

    /// Sigma's `windash`: every `-` or `/` that starts a parameter (at the start or after a space) also as `/`,
    /// `-`, en dash, em dash and horizontal bar; nil past 3 such places (5^3 = 125 values).
    public static func windashVariants(_ text: String) -> [String]? {
        let dashes: [Character] = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"]
        let characters = Array(text)
        let places = characters.indices.filter {
            (characters[$0] == "-" || characters[$0] == "/") && ($0 == 0 || characters[$0 - 1] == " ")
        }
        guard places.count <= 3 else { return nil }
        var variants: [[Character]] = [characters]
        for place in places {
            variants = variants.flatMap { variant in
                dashes.map { dash in
                    var copy = variant
                    copy[place] = dash
                    return copy
                }
            }
        }
        return variants.map { String($0) }
    }
}
