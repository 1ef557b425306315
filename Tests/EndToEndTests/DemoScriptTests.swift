import FlightlogTestSupport
import Foundation
import Testing

/// The README's first command, `bash scripts/demo.sh`, run as a user runs it (with the executables this test run
/// built, so that it does not build again): an aggregator over TLS, three workstations' agents tailing logs that
/// `flightlog simulate` writes in real time, the scripted vishing incident with the victim's agent stopped and its
/// auth.log covered up, then the investigator's commands. Checks what each section finds.
@Suite("The README's first command")
struct DemoScriptTests {
    @Test func theDemoReconstructsTheIncident() async throws {
        let flightlog = try Executables.path("flightlog")
        var environment = ProcessInfo.processInfo.environment
        environment["FLIGHTLOG_BIN"] = URL(fileURLWithPath: flightlog).deletingLastPathComponent().path
        let script = RepositoryFiles.root.appendingPathComponent("scripts/demo.sh").path
        let result = try await Subprocess.runAsync("/bin/bash", [script], environment: environment)
        let out = result.stdout
        defer {
            if let kept = out.split(separator: "\n").last(where: { $0.hasPrefix("demo files kept in ") }) {
                try? FileManager.default.removeItem(atPath: String(kept.dropFirst("demo files kept in ".count)))
            }
        }
        #expect(result.status == 0, "\(out)\n\(result.stderr)")
        #expect(out.contains("listening on 127.0.0.1:"), "\(out)")
        #expect(out.contains("enrolled cc-ws-003"))
        // The simulator's script, and the attacker's cover-up on the host.
        let victim = try #require(
            out.split(separator: "\n").first { $0.contains("login_from_new_address:") }?
                .split(separator: " ").drop { !$0.hasSuffix("login_from_new_address:") }.dropFirst().first
                .map(String.init),
            "\(out)"
        )
        #expect(out.contains("auth.log now holds 0 lines with the attacker's login"), "\(out)")
        let victimHost = try #require(
            out.split(separator: "\n").first { $0.contains("agent_stopped:") }?.split(separator: " ")
                .first { $0.hasPrefix("cc-ws-") }.map(String.init),
            "\(out)"
        )
        // agents: the victim's workstation silent and stopped, the others active (they still run).
        let agentRows = out.split(separator: "\n").filter { $0.hasPrefix("cc-ws-") && $0.contains("sha256:") }
        #expect(agentRows.count == 3, "\(out)")
        for row in agentRows {
            if row.hasPrefix(victimHost) {
                #expect(row.contains("silent") && row.contains("stopped"), "\(row)")
            } else {
                #expect(row.contains(" active "), "\(row)")
            }
        }
        // The hunt: the reset-then-login correlation for the victim, the consent and the export.
        #expect(out.contains("hit 1: user=\(victim)"), "\(out)")
        #expect(out.contains("7 rules loaded, 5 run, 3 matched"), "\(out)")
        #expect(out.contains("\"event\":\"report.export\""))
        // stats: the attacker's address seen for the first time, and the burst of records on the victim's host.
        #expect(out.contains("new_ip_for_user  user \(victim) from source IP 203.0.113."), "\(out)")
        #expect(out.contains("spike  host \(victimHost): "), "\(out)")
        // The timeline marks the victim's workstation silent after its agent was stopped.
        #expect(out.contains("---- SILENT cc-ws-"), "\(out)")
        // The login the attacker deleted from auth.log is in the store.
        #expect(out.contains("Accepted password for \(victim) from 203.0.113."), "\(out)")
        // verify: clean, then the edited copy's row named.
        #expect(out.contains("verify: clean"), "\(out)")
        #expect(out.contains("row_edited agent=cc-ws-"), "\(out)")
        #expect(out.contains("verify: 1 findings (row_edited ×1)"), "\(out)")
        #expect(out.contains("OK: ") && out.contains("inclusion proofs against checkpoint"), "\(out)")
        // The bundle carries the investigator's HTML report, hashed in its manifest, with the silence and the rules.
        #expect(out.contains("report.html sha256 "), "\(out)")
        let kept = try #require(
            out.split(separator: "\n").last { $0.hasPrefix("demo files kept in ") }.map {
                String($0.dropFirst("demo files kept in ".count))
            }
        )
        let report = try String(contentsOfFile: kept + "/bundle/report.html", encoding: .utf8)
        #expect(report.contains("SILENT") && report.contains(victimHost), "the victim's silence in the report")
        #expect(report.contains("Bulk export of customer records"), "the matched rules in the report")
    }
}
