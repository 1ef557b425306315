import FlightlogEvidence

extension FieldsJSON {
    /// `["a","b"]`, each string escaped as ``FieldsJSON/appendString(_:to:)`` escapes it.
    static func appendStringArray(_ strings: [String], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, string) in strings.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            Self.appendString(string, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }
}
