import Foundation

/// How the bundle's JSON files are written and read: indented, keys sorted (the same bundle, the same bytes), `/`
/// not escaped, a final newline.
enum BundleJSON {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value)) + [UInt8(ascii: "\n")]
    }

    /// Nil when the bytes are not JSON of that shape.
    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) -> T? {
        try? JSONDecoder().decode(type, from: data)
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or nil when it is absent, null or of another type: one bad member is that member's
    /// problem, reported by the verifier, not a reason to refuse the whole file.
    func lenient<T: Decodable>(_ key: Key) -> T? {
        (try? self.decodeIfPresent(T.self, forKey: key)) ?? nil
    }

    /// A list whose elements are decoded one by one: an element that does not decode is kept as `empty` (every
    /// member nil) so that the verifier reports it, and the list's other elements are still checked.
    func lenientList<T: Decodable>(_ key: Key, empty: T) -> [T]? {
        guard let list = (try? self.decodeIfPresent([Lenient<T>].self, forKey: key)) ?? nil else { return nil }
        return list.map { $0.value ?? empty }
    }
}

/// An element that may not decode.
struct Lenient<T: Decodable>: Decodable {
    let value: T?

    init(from decoder: any Decoder) throws {
        self.value = try? T(from: decoder)
    }
}
