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
        let hint = try #require(
            ShipperHints.afterRefusal("ERROR unknownAgent sequence 0: this key is not enrolled", self.configuration)
        )
        #expect(hint.contains("flightlog enroll --db DB --name cc-ws-602"))
        #expect(hint.contains("flightlog-agent pubkey --key /etc/flightlog/agent.key"))
        #expect(hint.contains("flightlog enroll-token --name cc-ws-602"))
    }

    @Test func aRevokedKeyIsToldToReenrol() throws {
        let hint = try #require(ShipperHints.afterRefusal("ERROR revokedAgent sequence 0: revoked", self.configuration))
        #expect(hint.contains("--reenroll"))
    }

    @Test func aRefusedConnectionNamesTheAddressAndServe() throws {
        let error =
            "Connection errors: SingleConnectionFailure(target: [IPv4]10.1.2.3/10.1.2.3:7514, error: "
            + "connection reset (error set): Connection refused) (errno: 111))"
        let hint = try #require(ShipperHints.unreachable(error, self.configuration))
        #expect(hint.contains("10.1.2.3:7514") && hint.contains("flightlog serve"))
    }

    @Test func otherFailuresGetNoMadeUpAdvice() {
        #expect(ShipperHints.afterRefusal("ERROR chainBroken sequence 4: …", self.configuration) == nil)
        #expect(ShipperHints.unreachable("something else entirely", self.configuration) == nil)
    }
}
