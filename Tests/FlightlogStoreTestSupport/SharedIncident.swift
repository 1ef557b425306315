import FlightlogTestSupport

/// One incident database shared by the tests that only read it (the audit rows of the commands they run pile up
/// there, harmlessly); built by the first test that asks, removed when the test process exits.
public actor SharedIncident {
    public static let shared = SharedIncident()
    private var fixture: IncidentFixture?

    public func get() async throws -> IncidentFixture {
        if let fixture { return fixture }
        let made = try await IncidentFixture.make(in: try .untilExit())
        self.fixture = made
        return made
    }
}
