import FlightlogTestSupport
import Foundation
import Glibc
import Testing

@testable import FlightlogStore

extension FaultInjectionTests {
    /// The journal source end to end: real journal files (systemd-journal-remote) grown while a real agent reads them
    /// with `--journal-directory`, `kill -9` of the agent many times and of the aggregator once; every entry must be
    /// indexed exactly once, and the investigator's commands must find users and addresses as they do in a file.
    @Suite("End to end: the journal source", .serialized)
    struct JournalEndToEndTests {
        @Test func everyEntryIsIndexedExactlyOnceAcrossKills() async throws {
            let site = try await EndToEndSite(agent: "ws-j")
            let (scratch, db) = (site.scratch, site.db)
            defer { scratch.cleanup() }
            let journalDirectory = scratch.file("journal")
            try FileManager.default.createDirectory(atPath: journalDirectory, withIntermediateDirectories: true)
            let journalFile = journalDirectory + "/remote.journal"
            func startServer() async throws -> Subprocess { try await site.startServer() }
            func startAgent() throws -> Subprocess {
                try site.startAgent(sources: ["--journal-directory", journalDirectory])
            }

            var server = try await startServer()
            var agent = try startAgent()
            defer {
                for process in [agent, server] where process.isRunning { Harness.killHard(process) }
            }
            var expected: [String] = []
            var random = SystemRandomNumberGenerator()
            let start = JournalFiles.nowMicros()
            var written: UInt64 = 0
            let rounds = 8
            for round in 0..<rounds {
                for chunk in 0..<4 {
                    var entries: [JournalFiles.Entry] = []
                    for n in 0..<30 {
                        let message =
                            "Failed password for u\(n % 5) from 203.0.113.\(round) port \(40000 + chunk * 100 + n) ssh2"
                        entries.append(
                            JournalFiles.Entry([
                                ("_HOSTNAME", "ws-j"), ("SYSLOG_IDENTIFIER", "sshd"), ("_COMM", "sshd"),
                                ("_PID", "\(1000 + round)"), ("_UID", "0"), ("MESSAGE", message),
                            ])
                        )
                        expected.append(message)
                    }
                    try JournalFiles.append(entries, to: journalFile, firstMicros: start + written)
                    written += UInt64(entries.count)
                    try await Task.sleep(for: .microseconds(Int.random(in: 1_000...20_000, using: &random)))
                }
                try await Task.sleep(for: .microseconds(Int.random(in: 0...150_000, using: &random)))
                Harness.killHard(agent)
                if round == rounds / 2 {
                    Harness.killHard(server)
                    server = try await startServer()
                }
                agent = try startAgent()
            }
            // One entry whose identifier lies about its process, as `logger -t sshd` would write it.
            let forged = "Accepted password for root from 198.51.100.66 port 4444 ssh2"
            try JournalFiles.append(
                [
                    JournalFiles.Entry([
                        ("_HOSTNAME", "ws-j"), ("SYSLOG_IDENTIFIER", "sshd"), ("_COMM", "logger"),
                        ("_EXE", "/usr/bin/logger"), ("_PID", "4242"), ("MESSAGE", forged),
                    ])
                ],
                to: journalFile,
                firstMicros: start + written
            )
            expected.append(forged)

            let stored = try await site.stopAndExpectExactlyOnce(expected, agent: agent, server: server)
            // In journal order, as written.
            let firstDifference = zip(stored, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(firstDifference == nil, "order differs at \(firstDifference ?? 0)")

            // The agent's own story: it resumed at its cursor after kills, saw the boot once, lost nothing.
            let lifecycle = try await SQLiteStore(readOnlyPath: db).lines(agentName: "ws-j")
                .map { String(decoding: $0, as: UTF8.self) }.filter { $0.hasPrefix("flightlog-agent") }
            #expect(lifecycle.contains { $0.contains("at the committed cursor") })
            #expect(lifecycle.filter { $0.contains("new boot") }.count == 1)
            #expect(!lifecycle.contains { $0.contains("vanish before it read them") })

            // The investigator's commands read journal entries as they read file lines.
            let byIP = try await Harness.runAsync(
                "flightlog",
                ["query", "--db", db, "--ip", "203.0.113.3", "--format", "jsonl"]
            )
            #expect(byIP.code == 0, "\(byIP.err)")
            #expect(byIP.out.split(separator: "\n").count == 120)
            let byUser = try await Harness.runAsync(
                "flightlog",
                ["query", "--db", db, "--user", "u2", "--format", "jsonl"]
            )
            #expect(byUser.out.split(separator: "\n").count == expected.filter { $0.contains("for u2 ") }.count)
            // The forged entry is flagged where the investigator reads it.
            let table = try await Harness.runAsync("flightlog", ["query", "--db", db, "--ip", "198.51.100.66"])
            #expect(
                table.out.contains("[identity: SYSLOG_IDENTIFIER=sshd but _COMM=logger _EXE=/usr/bin/logger]"),
                "\(table.out)"
            )
            let timeline = try await Harness.runAsync("flightlog", ["timeline", "--db", db])
            #expect(
                timeline.out.contains("[identity: SYSLOG_IDENTIFIER=sshd but _COMM=logger"),
                "\(timeline.out.suffix(2000))"
            )
            let json = try await Harness.runAsync(
                "flightlog",
                ["query", "--db", db, "--ip", "198.51.100.66", "--format", "jsonl"]
            )
            #expect(
                json.out.contains("\"flightlog.identity_mismatch\":\"SYSLOG_IDENTIFIER=sshd but _COMM=logger"),
                "\(json.out)"
            )
            // A hunt prints the flag beside its match too.
            try FileManager.default.createDirectory(atPath: scratch.file("rules"), withIntermediateDirectories: true)
            let rule = [
                "title: Root password login over ssh", "id: 5d0c3a57-2f55-4d6a-9a55-2d1c07a1c001",
                "logsource:", "  product: linux", "  service: sshd", "detection:", "  selection:", "    program: sshd",
                "    message|contains: 'Accepted password for root'", "  condition: selection", "level: high",
            ]
            try rule.joined(separator: "\n").write(
                toFile: scratch.file("rules/root-login.yml"),
                atomically: true,
                encoding: .utf8
            )
            let hunt = try await Harness.runAsync("flightlog", ["hunt", "--db", db, "--rules", scratch.file("rules")])
            #expect(hunt.out.contains("[identity: SYSLOG_IDENTIFIER=sshd but _COMM=logger"), "\(hunt.out)")
            let verify = try await Harness.runAsync("flightlog", ["verify", "--db", db])
            #expect(verify.code == 0, "\(verify.out)\(verify.err)")
        }
    }
}
