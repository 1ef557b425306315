import Glibc
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import FlightlogAggregator

/// The listening socket's accept errors, which SwiftNIO's accept backoff would otherwise swallow without a word.
@Suite("Accept errors and repeated warnings")
struct AcceptErrorTests {
    @Test func everyAcceptErrorIsCountedAndForwardedButLoggedOncePerInterval() throws {
        let metrics = AggregatorMetrics()
        let lines = NIOLockedValueBox<[(message: String, metadata: Logger.Metadata)]>([])
        let logger = Logger(label: "test") { _ in RecordingLogHandler(lines: lines) }
        let channel = EmbeddedChannel(handler: AcceptErrorHandler(logger: logger, metrics: metrics))
        for _ in 0..<3 {
            channel.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
            // Passed on to the backoff behind it.
            #expect(throws: IOError.self) { try channel.throwIfErrorCaught() }
        }
        #expect(metrics["accept_errors"] == 3)
        let logged = lines.withLockedValue { $0 }
        #expect(logged.count == 1)
        #expect(logged.first?.message == "Cannot accept connections; retrying")
        #expect(logged.first?.metadata["error"] == "Too many open files")
        _ = try channel.finish()
    }

    /// Out of descriptors, the listening socket is taken out of the poll set for the backoff, then read again: NIO's
    /// own backoff did not engage and the accept was retried ~75,000 times a second.
    @Test func aResourceShortagePausesAcceptingForTheBackoffOnly() throws {
        let loop = EmbeddedEventLoop()
        let handler = AcceptErrorHandler(
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            metrics: AggregatorMetrics(),
            backoff: .milliseconds(250)
        )
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        func autoRead() -> Bool? {
            channel.options.last { $0.option is ChannelOptions.Types.AutoReadOption }?.value as? Bool
        }
        channel.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
        #expect(autoRead() == false)
        loop.advanceTime(by: .milliseconds(249))
        #expect(autoRead() == false)
        loop.advanceTime(by: .milliseconds(1))
        #expect(autoRead() == true)
        // An error that is not a shortage does not pause.
        channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNABORTED, reason: "accept"))
        #expect(autoRead() == true)
        _ = try? channel.throwIfErrorCaught()
        _ = try? channel.finish()
    }

    @Test func aThrottleLogsTheFirstThenOncePerIntervalWithTheCount() {
        var throttle = LogThrottle(interval: .seconds(10))
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(throttle.note(now: start) == 1)
        #expect(throttle.note(now: start + .seconds(1)) == nil)
        #expect(throttle.note(now: start + .seconds(9)) == nil)
        #expect(throttle.note(now: start + .seconds(10)) == 3)
        #expect(throttle.note(now: start + .seconds(11)) == nil)
        #expect(throttle.note(now: start + .seconds(25)) == 2)
    }
}

/// Keeps each message and its metadata.
private struct RecordingLogHandler: LogHandler {
    let lines: NIOLockedValueBox<[(message: String, metadata: Logger.Metadata)]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        self.lines.withLockedValue { $0.append((message: "\(event.message)", metadata: merged)) }
    }
}
