import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation

extension IncidentFixture {
    /// Runs `flightlog SUBCOMMAND --db DB ARGUMENTS…`.
    func cli(_ subcommand: String, _ arguments: String...) async throws -> FlightlogCLI.Result {
        try await FlightlogCLI.run([subcommand, "--db", self.database] + arguments)
    }

    func cli(_ subcommand: String, arguments: [String]) async throws -> FlightlogCLI.Result {
        try await FlightlogCLI.run([subcommand, "--db", self.database] + arguments)
    }
}

/// Decodes one JSONL line into a dictionary.
func jsonObject(_ line: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw TestFailure("not a JSON object: \(line)")
    }
    return object
}
