public import NIOCore

/// Splits a byte stream into frames: a plain state machine with no channel in it (PROTOCOL.md §3).
///
/// The length is checked against ``WireLimits/maxFrameLength`` as soon as its four bytes are in, before the body
/// is buffered, so a peer cannot make the receiver allocate more than one maximum frame.
public struct FrameParser: Sendable {
    enum State: Sendable {
        case waitingForHeader
        case waitingForBody(length: Int)
    }

    private var state: State = .waitingForHeader
    private var limit: Int

    /// A parser that refuses frames longer than `maxFrameLength` (never above the protocol's own limit).
    public init(maxFrameLength: Int = WireLimits.maxFrameLength) {
        self.limit = min(maxFrameLength, WireLimits.maxFrameLength)
    }

    /// The longest frame accepted from the next length field on (never above the protocol's own limit): the
    /// aggregator raises it from ``WireLimits/maxHandshakeFrameLength`` once WELCOME is out.
    public var maxFrameLength: Int {
        get { self.limit }
        set { self.limit = min(newValue, WireLimits.maxFrameLength) }
    }

    /// Takes the next complete frame out of `buffer`, or returns nil when more bytes are needed.
    public mutating func nextFrame(buffer: inout ByteBuffer) throws(WireError) -> Frame? {
        while true {
            switch self.state {
            case .waitingForHeader:
                guard let length = buffer.readInteger(endianness: .big, as: UInt32.self) else { return nil }
                guard length >= 1 else { throw WireError.invalidValue(what: "frame length", value: 0) }
                guard Int(length) <= self.maxFrameLength else {
                    throw WireError.frameTooLarge(length: Int(length), limit: self.maxFrameLength)
                }
                self.state = .waitingForBody(length: Int(length))
            case .waitingForBody(let length):
                guard var body = buffer.readSlice(length: length) else { return nil }
                self.state = .waitingForHeader
                guard let typeByte = body.readInteger(as: UInt8.self) else {
                    throw WireError.truncated(what: "frame type")
                }
                return try Frame.decode(typeByte: typeByte, body: &body)
            }
        }
    }
}
