/// Everything that can be wrong with bytes that claim to be Flightlog protocol data.
///
/// Decoders throw these; nothing in `FlightlogWire` traps on input.
public enum WireError: Error, Equatable, Sendable {
    /// The input ended before the structure it began was complete.
    case truncated(what: String)
    /// A length field exceeds the limit named in `limit`.
    case lengthExceedsLimit(what: String, length: Int, limit: Int)
    /// A frame's length field exceeds the receiver's maximum frame length (PROTOCOL.md §3 rules 1–2): `limit` is
    /// ``WireLimits/maxFrameLength``, or the smaller maximum the receiver applies (the aggregator's before WELCOME).
    case frameTooLarge(length: Int, limit: Int)
    /// A length field disagrees with the bytes actually present.
    case lengthMismatch(what: String, declared: Int, actual: Int)
    /// The frame type byte names no known frame.
    case unknownFrameType(UInt8)
    /// The handshake or batch magic is wrong.
    case badMagic(what: String)
    /// The protocol or batch format version is not supported.
    case unsupportedVersion(what: String, version: Int)
    /// Bytes remained after a structure that must end its container.
    case trailingBytes(what: String, count: Int)
    /// A text field is not valid UTF-8.
    case invalidUTF8(what: String)
    /// A field holds a value the specification forbids.
    case invalidValue(what: String, value: Int)
    /// The batch's Ed25519 signature does not verify against the expected key.
    case badSignature
    /// The batch names a different agent key than the one it is checked against.
    case keyMismatch
    /// The compressed payload is not a valid zlib stream.
    case corruptCompression(String)
    /// The payload inflates to more or fewer bytes than the batch declares.
    case inflatedLengthMismatch(declared: Int)
    /// The batch's codec byte names no known codec.
    case unknownCodec(UInt8)
}

extension WireError {
    /// The code an aggregator sends when a frame fails to decode with this error (PROTOCOL.md §3 rule 7): the
    /// HELLO checks have their own codes, a length past the limit is `frameTooLarge`, anything else
    /// `malformedFrame`. An agent sends `malformedFrame` for the HELLO ones too: `badMagic` and
    /// `unsupportedVersion` are the aggregator's answers to a HELLO.
    public var frameErrorCode: ErrorCode {
        switch self {
        case .badMagic: .badMagic
        case .unsupportedVersion: .unsupportedVersion
        case .frameTooLarge: .frameTooLarge
        default: .malformedFrame
        }
    }

    /// The code a receiver sends when a batch fails its checks with this error (PROTOCOL.md §5, §7.5).
    public var batchErrorCode: ErrorCode {
        switch self {
        case .keyMismatch: .keyMismatch
        case .badSignature: .badSignature
        default: .malformedBatch
        }
    }
}
