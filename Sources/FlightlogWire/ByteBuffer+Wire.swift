public import NIOCore

// MARK: - Bounded reads

extension ByteBuffer {
    /// Reads a big-endian integer or throws ``WireError/truncated(what:)``.
    @inlinable
    mutating func readWireInteger<T: FixedWidthInteger>(
        _ what: @autoclosure () -> String,
        as: T.Type = T.self
    ) throws(WireError) -> T {
        guard let value = self.readInteger(endianness: .big, as: T.self) else {
            throw WireError.truncated(what: what())
        }
        return value
    }

    /// Reads exactly `count` bytes or throws; `count` must already be bounded by the caller.
    @inlinable
    mutating func readWireBytes(_ count: Int, _ what: @autoclosure () -> String) throws(WireError) -> [UInt8] {
        guard count <= self.readableBytes, let bytes = self.readBytes(length: count) else {
            throw WireError.truncated(what: what())
        }
        return bytes
    }

    /// Reads a length-prefixed UTF-8 string whose prefix is `Prefix` and whose length is at most `limit`.
    @inlinable
    mutating func readWireString<Prefix: FixedWidthInteger>(
        _ what: @autoclosure () -> String,
        prefix: Prefix.Type,
        limit: Int
    ) throws(WireError) -> String {
        let length = Int(try self.readWireInteger("\(what()) length", as: Prefix.self))
        guard length <= limit else {
            throw WireError.lengthExceedsLimit(what: what(), length: length, limit: limit)
        }
        guard length <= self.readableBytes, let view = self.readSlice(length: length) else {
            throw WireError.truncated(what: what())
        }
        guard
            let string = view.readableBytesView.withContiguousStorageIfAvailable(Self.validatedUTF8)
                ?? Self.validatedUTF8(Array(view.readableBytesView))
        else {
            throw WireError.invalidUTF8(what: what())
        }
        return string
    }

    /// `bytes` as a `String` when they are valid UTF-8 (decoding ASCII never repairs anything; see ``UTF8Text``).
    @inlinable
    static func validatedUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if UTF8Text.isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }

    @inlinable
    static func validatedUTF8(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer(Self.validatedUTF8)
    }

    /// Reads a fixed 32-byte value (key, hash or nonce).
    @inlinable
    mutating func readWire32(_ what: @autoclosure () -> String) throws(WireError) -> Bytes32 {
        Bytes32(unchecked: try self.readWireBytes(32, what()))
    }
}

// MARK: - Writes

extension ByteBuffer {
    /// Writes a string with a length prefix of type `Prefix`; the caller guarantees the length fits.
    @inlinable
    mutating func writeWireString<Prefix: FixedWidthInteger>(_ string: String, prefix: Prefix.Type) {
        let utf8 = string.utf8
        self.writeInteger(Prefix(truncatingIfNeeded: utf8.count), endianness: .big)
        self.writeBytes(utf8)
    }
}

// MARK: - Validation helpers

@inlinable
func checkLength(_ what: @autoclosure () -> String, _ length: Int, limit: Int) throws(WireError) {
    guard length <= limit else {
        throw WireError.lengthExceedsLimit(what: what(), length: length, limit: limit)
    }
}
