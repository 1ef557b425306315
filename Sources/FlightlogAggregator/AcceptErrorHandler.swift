import Glibc
import Logging
import NIOCore

/// Reports the listening socket's accept errors, which SwiftNIO would otherwise handle without a word.
///
/// When `accept(2)` fails (EMFILE when the process is out of file descriptors, ENFILE, ENOBUFS, ENOMEM), NIO's
/// accept backoff waits a second and tries again, and does not pass the error on: the agents queued behind it get
/// no answer, and nothing says why. This handler sits in front of that backoff on the server channel: it counts each
/// failure (`accept_errors`) and logs one warning per `interval` with the number since the last one, so that a
/// descriptor shortage cannot flood the log either.
final class AcceptErrorHandler: ChannelInboundHandler {
    typealias InboundIn = Any

    private let logger: Logger
    private let metrics: AggregatorMetrics
    private var throttle: LogThrottle

    init(logger: Logger, metrics: AggregatorMetrics, interval: TimeAmount = .seconds(10)) {
        self.logger = logger
        self.metrics = metrics
        self.throttle = LogThrottle(interval: interval)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.metrics.add("accept_errors")
        if let failures = self.throttle.note() {
            self.logger.warning(
                "Cannot accept connections; retrying",
                metadata: ["error": "\(AcceptErrorHandler.describe(error))", "failures": "\(failures)"]
            )
        }
        context.fireErrorCaught(error)
    }

    /// The system's text for an `IOError` (NIO's own description carries the errno and a stray parenthesis).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }
}
