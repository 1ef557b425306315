import FlightlogSystem
import FlightlogWire
import Glibc
import NIOCore
import NIOPosix
import Testing

@testable import FlightlogAgent

/// The agent says what to do next for the failures a newcomer meets first (issue 27): a key not enrolled, a revoked
/// key, nothing listening at the aggregator's address.
@Suite struct ShipperHintsTests {
    let configuration = AgentConfiguration(
        aggregatorHost: "10.1.2.3",
        aggregatorPort: 7514,
        keyPath: "/etc/flightlog/agent.key",
        stateDirectory: "/var/lib/flightlog-agent",
        watch: [],
        hostname: "cc-ws-602"
    )

    @Test func aKeyNotEnrolledIsToldHowToEnrolIt() throws {
        let hint = try #require(ShipperHints.afterRefusal(.unknownAgent, self.configuration))
        #expect(hint.contains("flightlog enroll --db DB --name cc-ws-602"))
        #expect(hint.contains("flightlog-agent pubkey --key /etc/flightlog/agent.key"))
        #expect(hint.contains("flightlog enroll-token --name cc-ws-602"))
    }

    @Test func aRevokedKeyIsToldToReenrol() throws {
        let hint = try #require(ShipperHints.afterRefusal(.revokedAgent, self.configuration))
        #expect(hint.contains("--reenroll"))
    }

    /// A real connection to a port bound on 127.0.0.1 but not listening: the error ClientBootstrap throws.
    @Test func aRefusedConnectionNamesTheAddressAndServe() async throws {
        let bound = try #require(LoopbackTCP.bind())
        defer { close(bound.fd) }
        var configuration = self.configuration
        configuration.aggregatorHost = "127.0.0.1"
        configuration.aggregatorPort = bound.port
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: bound.port).get()
            try await channel.close()
            Issue.record("the connection was accepted")
        } catch {
            let hint = try #require(ShipperHints.unreachable(error, configuration), "\(error)")
            #expect(hint.contains("127.0.0.1:\(bound.port)") && hint.contains("flightlog serve"))
        }
    }

    @Test func aWrongPortIsToldWhatAnsweredAndWhereServeListens() {
        let http = ShipperHints.notAnAggregator(greeting: "HTTP", self.configuration)
        #expect(http.contains("answered \"HTTP…\": an HTTP server"))
        #expect(http.contains("flightlog serve --listen"))
        #expect(ShipperHints.notAnAggregator(greeting: "SSH-", self.configuration).contains("an SSH server"))
    }

    @Test func otherFailuresGetNoMadeUpAdvice() {
        #expect(ShipperHints.afterRefusal(.chainBroken, self.configuration) == nil)
        #expect(ShipperHints.unreachable(ChannelError.ioOnClosedChannel, self.configuration) == nil)
    }
}
