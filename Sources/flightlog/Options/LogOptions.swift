public import ArgumentParser
import Logging

/// `--log-level`, shared by long-running commands.
struct LogOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Log level: trace, debug, info, notice, warning, error, critical. Example: --log-level debug"
        )
    )
    var logLevel: Logger.Level = .info

    /// Sends logs to standard error at the chosen level and returns the root logger.
    func bootstrap(label: String) -> Logger {
        let level = self.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
