import CZlib

/// zlib (RFC 1950) compression with a hard bound on inflation.
public enum Zlib {
    /// Compresses `input` into one complete zlib stream.
    public static func compress(_ input: [UInt8], level: Int32 = 6) throws(WireError) -> [UInt8] {
        var stream = z_stream()
        guard flightlog_deflateInit(&stream, level) == Z_OK else {
            throw WireError.corruptCompression("deflateInit failed")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let status: Int32 = input.withUnsafeBufferPointer { inPtr in
            output.withUnsafeMutableBufferPointer { outPtr in
                stream.next_in = UnsafeMutablePointer(mutating: inPtr.baseAddress)
                stream.avail_in = uInt(inPtr.count)
                stream.next_out = outPtr.baseAddress
                stream.avail_out = uInt(outPtr.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw WireError.corruptCompression("deflate returned \(status)")
        }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Inflates `input`, which must be one zlib stream of exactly `declaredLength` bytes once inflated.
    ///
    /// At most `declaredLength` bytes are ever written: a stream that wants to grow past it (a zip bomb) stops
    /// there with ``WireError/inflatedLengthMismatch(declared:)``. `declaredLength` must already be bounded by the
    /// caller (``WireLimits/maxUncompressedBatchLength``).
    public static func inflate(_ input: some Collection<UInt8>, declaredLength: Int) throws(WireError) -> [UInt8] {
        var stream = z_stream()
        guard flightlog_inflateInit(&stream) == Z_OK else {
            throw WireError.corruptCompression("inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        // One spare byte lets an over-long stream show itself instead of looking exactly full. The output is not
        // zeroed first: inflate writes every byte it reports, and only those are kept.
        var status: Int32 = Z_STREAM_ERROR
        let output = [UInt8](unsafeUninitializedCapacity: declaredLength + 1) { outPtr, initialized in
            func run(_ inPtr: UnsafeBufferPointer<UInt8>) {
                stream.next_in = UnsafeMutablePointer(mutating: inPtr.baseAddress)
                stream.avail_in = uInt(inPtr.count)
                stream.next_out = outPtr.baseAddress
                stream.avail_out = uInt(outPtr.count)
                status = CZlib.inflate(&stream, Z_FINISH)
            }
            if input.withContiguousStorageIfAvailable(run) == nil { Array(input).withUnsafeBufferPointer(run) }
            initialized = Int(stream.total_out)
        }
        let produced = Int(stream.total_out)
        switch status {
        case Z_STREAM_END:
            guard produced == declaredLength else { throw WireError.inflatedLengthMismatch(declared: declaredLength) }
            guard stream.avail_in == 0 else {
                throw WireError.trailingBytes(what: "zlib stream", count: Int(stream.avail_in))
            }
        case Z_BUF_ERROR where stream.avail_out == 0:
            throw WireError.inflatedLengthMismatch(declared: declaredLength)
        case Z_BUF_ERROR:
            throw WireError.corruptCompression("zlib stream is truncated")
        default:
            let message = stream.msg.map { String(cString: $0) } ?? "inflate returned \(status)"
            throw WireError.corruptCompression(message)
        }
        return output
    }
}
