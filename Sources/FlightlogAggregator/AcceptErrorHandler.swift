import Glibc
import Logging
import NIOCore

/// Reports the listening socket's accept errors and backs off from them for real.
///
/// When `accept(2)` fails (EMFILE when the process is out of file descriptors, ENFILE, ENOBUFS, ENOMEM), SwiftNIO
/// 2.101's accept backoff does not engage for the async server bootstrap (the channel's `readPending` stays set, so
/// the level-triggered socket keeps firing): it retried ~75,000 times a second on one core, and the error was not
/// passed on, so nothing said why agents got no answer. This handler sits in front of that backoff on the server
/// channel: it counts each failure (`accept_errors`), logs one warning per `interval` with the number since the
/// last, and for resource errors stops reading the listening socket for `backoff` (the `autoRead` option, which
/// takes the socket out of the poll set) before it tries again.
final class AcceptErrorHandler: ChannelInboundHandler {
    typealias InboundIn = Any

    private let logger: Logger
    private let metrics: AggregatorMetrics
    private let backoff: TimeAmount
    private var throttle: LogThrottle
    private var pausedUntilRetry = false

    init(
        logger: Logger,
        metrics: AggregatorMetrics,
        interval: TimeAmount = .seconds(10),
        backoff: TimeAmount = .milliseconds(250)
    ) {
        self.logger = logger
        self.metrics = metrics
        self.backoff = backoff
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
        if Self.isResourceShortage(error), !self.pausedUntilRetry,
            (try? context.channel.syncOptions?.setOption(.autoRead, value: false)) != nil
        {
            self.pausedUntilRetry = true
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: self.backoff) {
                let (handler, context) = loopBound.value
                handler.pausedUntilRetry = false
                try? context.channel.syncOptions?.setOption(.autoRead, value: true)
            }
        }
        context.fireErrorCaught(error)
    }

    /// The accept errors that pass once descriptors or memory are freed.
    static func isResourceShortage(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode)
    }

    /// The system's text for an `IOError` (NIO's own description carries the errno and a stray parenthesis).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }
}
