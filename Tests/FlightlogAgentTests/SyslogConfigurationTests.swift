import FlightlogTestSupport
import Testing

@testable import FlightlogAgent

/// The `syslog:` section and its checks: syslog alone is a valid source, and every bad value is refused with a
/// message naming the key.
@Suite struct SyslogConfigurationTests {
    let dir: TempDirectory

    init() throws {
        self.dir = try TempDirectory()
    }

    private func load(_ yaml: String) throws -> AgentConfiguration {
        try self.dir.overwrite("agent.yaml", "insecure_plaintext: true\n" + yaml)
        return try AgentConfiguration.load(path: self.dir.file("agent.yaml"))
    }

    @Test func aSyslogSectionAloneIsAValidConfiguration() throws {
        let configuration = try self.load(
            """
            syslog:
              unix: /run/flightlog/log.sock
              udp: 127.0.0.1:5514
              tcp: "[::1]:6514"
              max_message_bytes: 8192
              queue_max_messages: 500
              max_connections: 8
            """
        )
        #expect(configuration.watch.isEmpty)
        #expect(
            configuration.syslog
                == SyslogConfiguration(
                    unixPath: "/run/flightlog/log.sock",
                    udp: .init(host: "127.0.0.1", port: 5514),
                    tcp: .init(host: "::1", port: 6514),
                    maxMessageBytes: 8192,
                    queueMaxMessages: 500,
                    maxConnections: 8
                )
        )
        #expect(configuration.syslog.tcp?.description == "[::1]:6514")
        try configuration.validate()
    }

    @Test func withoutAnySourceTheMessageListsThemAll() throws {
        let configuration = try self.load("")
        #expect(throws: AgentError.self) { try configuration.validate() }
        do {
            try configuration.validate()
        } catch {
            #expect("\(error)".contains("at least one source"))
            #expect("\(error)".contains("--syslog-unix"))
        }
    }

    @Test(
        arguments: [
            ("syslog:\n  udp: 127.0.0.1:70000", "syslog.udp"),
            ("syslog:\n  tcp: 127.0.0.1", "syslog.tcp"),
            ("syslog:\n  tcp: ':514'", "syslog.tcp"),
            ("syslog:\n  unix: relative.sock", "syslog.unix"),
            ("syslog:\n  unix: /\(String(repeating: "x", count: 200))", "syslog.unix"),
            ("syslog:\n  unix: /run/x.sock\n  max_message_bytes: 100", "syslog.max_message_bytes"),
            ("syslog:\n  unix: /run/x.sock\n  max_message_bytes: 1000000", "syslog.max_message_bytes"),
            ("syslog:\n  unix: /run/x.sock\n  queue_max_messages: 0", "syslog.queue_max_messages"),
            ("syslog:\n  unix: /run/x.sock\n  max_connections: -1", "syslog.max_connections"),
        ]
    )
    func badValuesAreRefused(_ yaml: String, _ key: String) {
        do {
            try self.load(yaml).validate()
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }
}
