import CDeflate
import FlightlogWire

/// Inflates the payload of a stored batch for `verify`, with libdeflate instead of zlib.
///
/// `verify` inflates every stored batch again (gigabytes for ten million events), and zlib's streaming inflate was
/// its largest single cost; libdeflate decodes the same zlib format about four times as fast, checks the same
/// Adler-32 trailer, and is given exactly the declared length plus one byte, as ``Zlib/inflate(_:declaredLength:)``
/// is. Anything it does not decode to exactly the declared length, with every input byte used, is handed to
/// `Zlib.inflate`, which then reports what is wrong in its own words: the findings read as they did.
///
/// Ingest keeps zlib (the protocol's reference decoder). libdeflate is slightly more lenient (it accepts a few
/// incomplete Huffman codes that zlib refuses), so a stream only it accepts could only come from someone holding an
/// agent's signing key, who could sign any content anyway: the signature check before this decides authenticity.
enum LibdeflateInflater {
    static func inflate(_ input: ArraySlice<UInt8>, declaredLength: Int) throws(WireError) -> [UInt8] {
        if let output = Self.inflateFast(input, declaredLength: declaredLength) { return output }
        return try Zlib.inflate(input, declaredLength: declaredLength)
    }

    /// The inflated bytes when libdeflate decodes `input` completely to exactly `declaredLength` bytes; else nil.
    private static func inflateFast(_ input: ArraySlice<UInt8>, declaredLength: Int) -> [UInt8]? {
        guard declaredLength >= 0, let decompressor = libdeflate_alloc_decompressor() else { return nil }
        defer { libdeflate_free_decompressor(decompressor) }
        var result = LIBDEFLATE_BAD_DATA
        var consumed = 0
        var produced = 0
        // One spare byte, so that a stream longer than declared fails instead of filling the buffer exactly.
        let output = [UInt8](unsafeUninitializedCapacity: declaredLength + 1) { buffer, initialized in
            input.withUnsafeBytes { source in
                result = libdeflate_zlib_decompress_ex(
                    decompressor,
                    source.baseAddress,
                    source.count,
                    buffer.baseAddress,
                    buffer.count,
                    &consumed,
                    &produced
                )
            }
            initialized = result == LIBDEFLATE_SUCCESS ? min(produced, buffer.count) : 0
        }
        guard result == LIBDEFLATE_SUCCESS, produced == declaredLength, consumed == input.count else { return nil }
        return output
    }
}
