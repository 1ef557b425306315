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
