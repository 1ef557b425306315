/// Checks of UTF-8 text shared by the wire decoders and the store.
///
/// ASCII, what log lines and field values nearly always are, needs no validation: one pass that ORs the bytes
/// together (vectorized) decides. Anything else goes through the standard library's validation.
public enum UTF8Text {
    /// Whether every byte is below 0x80.
    @inlinable
    public static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var union: UInt8 = 0
        for byte in bytes { union |= byte }
        return union < 0x80
    }

    /// Whether `bytes` are valid UTF-8.
    @inlinable
    public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        Self.isASCII(bytes) || String(validating: bytes, as: UTF8.self) != nil
    }
}
