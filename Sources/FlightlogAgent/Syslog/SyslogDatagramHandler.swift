import FlightlogSystem
import NIOCore

/// Hands each UDP datagram to the queue as one message (RFC 5426), dropping and counting it when the queue is full.
/// The channel reads into buffers of `maxMessageBytes + 1` bytes, so a datagram that fills one was longer and is cut.
final class SyslogDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let queue: SyslogQueue
    private let address: SyslogConfiguration.Address
    private let maxMessageBytes: Int
    private let counters: AgentCounters
    /// `syslog:udp:HOST:PORT` with the port bound (the kernel's choice when the configuration says 0).
    private var source: String

    init(queue: SyslogQueue, address: SyslogConfiguration.Address, maxMessageBytes: Int, counters: AgentCounters) {
        self.queue = queue
        self.address = address
        self.maxMessageBytes = maxMessageBytes
        self.counters = counters
        self.source = "syslog:udp:\(address)"
    }

    func channelActive(context: ChannelHandlerContext) {
        if let port = context.localAddress?.port {
            self.source = "syslog:udp:\(SyslogConfiguration.Address(host: self.address.host, port: port))"
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let datagram = Self.unwrapInboundIn(data).data
        let view = datagram.readableBytesView
        let truncated = view.count > self.maxMessageBytes
        let bytes = SyslogMessage.trimmed(view.prefix(self.maxMessageBytes))
        guard !bytes.isEmpty else { return }
        if truncated { self.counters.add("syslog_truncated") }
        self.queue.offer(
            SyslogMessage(source: self.source, bytes: bytes, observedNanos: WallClock.nowNanos(), truncated: truncated)
        )
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed read of one datagram (ICMP errors reported on the socket, say) is no reason to stop listening.
        self.counters.add("syslog_receive_errors")
    }
}
