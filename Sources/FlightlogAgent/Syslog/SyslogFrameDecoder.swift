import NIOCore

/// Splits a syslog TCP stream into messages (RFC 6587), with the framing chosen by the connection's first byte: a
/// digit means octet counting, anything else LF-terminated lines.
///
/// ```
/// octet counting (RFC 6587 §3.4.1)          non-transparent framing (§3.4.2)
/// +---------+----+-----------------------+  +-----------------------+----+
/// | MSG-LEN | SP | SYSLOG-MSG            |  | SYSLOG-MSG            | LF |
/// | 1*DIGIT |    | MSG-LEN bytes         |  | no LF inside          |    |
/// +---------+----+-----------------------+  +-----------------------+----+
/// "71 <13>1 2026-11-24T10:00:00Z …"        "<13>Nov 24 10:00:00 host sshd[1]: …\n"
/// ```
///
/// MSG-LEN is a decimal without a leading zero, at most `maxMessageBytes`; anything else (`abc`, `0`, a count over
/// the cap, a digit run longer than the cap's) is an error that closes the connection. LF between octet-counted
/// frames is skipped (some senders add one). A line longer than `maxMessageBytes` closes the connection too: the
/// reader never buffers more than one message plus its framing. Empty lines are skipped.
struct SyslogFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    enum Framing: Equatable {
        case undecided
        case octetCounting
        case lineFeed
    }

    let maxMessageBytes: Int
    private(set) var framing = Framing.undecided
    /// Digits of the largest count accepted: a longer digit run is an error before any allocation.
    private let maxCountDigits: Int

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
        self.maxCountDigits = String(maxMessageBytes).count
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let message = try self.next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        if let message = try self.next(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(message))
            return .continue
        }
        // A last line without its LF is still a message; a partial octet-counted frame is not.
        if self.framing == .lineFeed, buffer.readableBytes > 0,
            let rest = buffer.readSlice(length: buffer.readableBytes)
        {
            context.fireChannelRead(Self.wrapInboundOut(rest))
        }
        return .needMoreData
    }

    /// The next message in `buffer`, or nil until more bytes arrive. Pure: what the channel handler and the tests
    /// both call.
    mutating func next(_ buffer: inout ByteBuffer) throws(AgentError) -> ByteBuffer? {
        while true {
            if self.framing == .undecided {
                guard let first = buffer.readableBytesView.first else { return nil }
                self.framing = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) ? .octetCounting : .lineFeed
            }
            switch self.framing {
            case .octetCounting:
                while buffer.readableBytesView.first == UInt8(ascii: "\n") { buffer.moveReaderIndex(forwardBy: 1) }
                return try self.nextCounted(&buffer)
            case .lineFeed, .undecided:
                let view = buffer.readableBytesView
                guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
                    guard view.count <= self.maxMessageBytes else {
                        throw AgentError.badSyslogFrame("a line longer than \(self.maxMessageBytes) bytes")
                    }
                    return nil
                }
                let length = newline - view.startIndex
                guard length <= self.maxMessageBytes else {
                    throw AgentError.badSyslogFrame("a line of \(length) bytes, over \(self.maxMessageBytes)")
                }
                guard let line = buffer.readSlice(length: length) else { return nil }
                buffer.moveReaderIndex(forwardBy: 1)
                if line.readableBytes > 0 { return line }
            }
        }
    }

    private func nextCounted(_ buffer: inout ByteBuffer) throws(AgentError) -> ByteBuffer? {
        let view = buffer.readableBytesView
        var count = 0
        var digits = 0
        for byte in view {
            if byte == UInt8(ascii: " ") { break }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), !(digits == 0 && byte == UInt8(ascii: "0"))
            else {
                throw AgentError.badSyslogFrame("octet count expected, got byte \(byte) at count position \(digits)")
            }
            digits += 1
            guard digits <= self.maxCountDigits else {
                throw AgentError.badSyslogFrame("an octet count longer than \(self.maxCountDigits) digits")
            }
            count = count * 10 + Int(byte - UInt8(ascii: "0"))
        }
        // The count is complete only once its space has arrived.
        guard digits < view.count else { return nil }
        guard digits > 0 else { throw AgentError.badSyslogFrame("an empty octet count") }
        guard count <= self.maxMessageBytes else {
            throw AgentError.badSyslogFrame("an octet count of \(count), over \(self.maxMessageBytes)")
        }
        guard view.count >= digits + 1 + count else { return nil }
        buffer.moveReaderIndex(forwardBy: digits + 1)
        return buffer.readSlice(length: count)
    }
}
