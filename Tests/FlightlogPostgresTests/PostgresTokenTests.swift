import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogStore
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// Enrolment tokens on PostgreSQL: issued with `flightlog enroll-token --store` and redeemed by a real
/// `flightlog-agent enroll` over TLS at one node, then refused at another; every refusal the SQLite store gives.
@Suite("PostgreSQL: enrolment tokens")
struct PostgresTokenTests {
    @Test func aTokenIssuedOnTheStoreEnrolsAnAgentOnceWhicheverNodeItReaches() async throws {
        let database = try await PostgresTestDatabase.make()
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let url = database.location.description
        let tls = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            ["tls-init", "--out", scratch.file("tls"), "--name", "localhost", "--ip", "127.0.0.1"]
        )
        let pin = try #require(
            tls.stdout.split(separator: "\n").last(where: { $0.hasPrefix("pin: ") }).map { String($0.dropFirst(5)) },
            "\(tls.stderr)"
        )
        let issue = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            ["enroll-token", "--store", url, "--name", "ws-token"]
        )
        #expect(issue.status == 0, "\(issue.stderr)")
        let token = try #require(issue.stdout.split(separator: "\n").last.map(String.init))
        try (token + "\n").write(toFile: scratch.file("token"), atomically: true, encoding: .utf8)

        var nodes: [Subprocess] = []
        defer {
            for node in nodes where node.isRunning {
                node.terminate()
                node.waitUntilExit()
            }
        }
        var ports: [Int] = []
        for index in 1...2 {
            let port = try ThreeNodeTests.freePort()
            let log = scratch.file("node-\(index).log")
            let node = try Subprocess(
                try Executables.path("flightlog"),
                [
                    "serve", "--store", url, "--node", "node-\(index)", "--aggregator-key", scratch.file("site.key"),
                    "--listen", "127.0.0.1:\(port)", "--tls-cert", scratch.file("tls/server.pem"), "--tls-key",
                    scratch.file("tls/server.key"), "--status-file", scratch.file("node-\(index).status.json"),
                ],
                stdout: log,
                stderr: log
            )
            nodes.append(node)
            ports.append(port)
            try await ThreeNodeTests.eventually(seconds: 60, "node \(index) listening", node: node, log: log) {
                (try? String(contentsOfFile: log, encoding: .utf8))?.contains("(TLS 1.3)") == true
            }
        }
        func enroll(port: Int, key: String) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await Subprocess.runAsync(
                try Executables.path("flightlog-agent"),
                [
                    "enroll", "--aggregator", "127.0.0.1:\(port)", "--token-file", scratch.file("token"), "--key",
                    scratch.file(key), "--pin", pin,
                ]
            )
        }
        let first = try await enroll(port: ports[0], key: "agent.key")
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        // The same token at the other node, from another host's key: used.
        let second = try await enroll(port: ports[1], key: "other.key")
        #expect(second.status == 1, "\(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("used"), "\(second.stderr)")

        let store = try await PostgresStore.open(database.location, node: "checker")
        defer { store.close() }
        #expect(try await store.agentSummaries().map(\.agent.name) == ["ws-token"])
        let tokens = try await store.tokens()
        #expect(tokens.count == 1)
        #expect(tokens.first?.usedNanos != nil)
        #expect(tokens.first?.usedPeer?.contains("127.0.0.1") == true, "\(String(describing: tokens.first?.usedPeer))")
        #expect(try await store.auditEntries().map(\.command) == ["enroll-token", "enroll"])
        // The nodes stop before their database goes (a node whose database is gone waits for it when it stops).
        for node in nodes {
            node.terminate()
            await node.exited()
        }
        await database.drop()
    }

    @Test func everyRefusalOfTheSQLiteStoreIsGiven() async throws {
        let database = try await PostgresTestDatabase.make()
        let store = try await PostgresStore.open(database.location, node: "node-a")
        defer { store.close() }
        let now = nowNanos()
        let keyA = TestAgent(name: "a").publicKey
        let keyB = TestAgent(name: "b").publicKey
        #expect(
            try await store.redeem(token: "flt1_nothing", publicKey: keyA, peer: "p", atNanos: now)
                == .failure(.unknownToken)
        )
        let expired = try await store.issueToken(
            name: "ws-1",
            expiresNanos: now - 1,
            reenroll: false,
            who: "t",
            atNanos: now - 10
        )
        #expect(
            try await store.redeem(token: expired.token, publicKey: keyA, peer: "p", atNanos: now)
                == .failure(.expired(atNanos: now - 1))
        )
        let revoked = try await store.issueToken(
            name: "ws-1",
            expiresNanos: now + 1_000_000_000_000,
            reenroll: false,
            who: "t",
            atNanos: now
        )
        #expect(try await store.revokeTokens(name: "ws-1", id: nil, who: "t", atNanos: now) == 2)
        #expect(
            try await store.redeem(token: revoked.token, publicKey: keyA, peer: "p", atNanos: now)
                == .failure(.revoked(atNanos: now))
        )
        let good = try await store.issueToken(
            name: "ws-1",
            expiresNanos: now + 1_000_000_000_000,
            reenroll: false,
            who: "t",
            atNanos: now
        )
        guard
            case .success(let agent) = try await store.redeem(
                token: good.token,
                publicKey: keyA,
                peer: "p",
                atNanos: now
            )
        else {
            Issue.record("the good token did not enrol")
            return
        }
        #expect(agent.publicKey == keyA)
        #expect(
            try await store.redeem(token: good.token, publicKey: keyB, peer: "p", atNanos: now)
                == .failure(.used(atNanos: now))
        )
        // A name enrolled already: refused without --reenroll (at issue time), replaced with it.
        await #expect(throws: StoreError.alreadyEnrolled(name: "ws-1")) {
            try await store.issueToken(
                name: "ws-1",
                expiresNanos: now + 1_000_000_000_000,
                reenroll: false,
                who: "t",
                atNanos: now
            )
        }
        let sameKey = try await store.issueToken(
            name: "ws-2",
            expiresNanos: now + 1_000_000_000_000,
            reenroll: false,
            who: "t",
            atNanos: now
        )
        #expect(
            try await store.redeem(token: sameKey.token, publicKey: keyA, peer: "p", atNanos: now)
                == .failure(.keyEnrolled(name: "ws-1"))
        )
        let again = try await store.issueToken(
            name: "ws-1",
            expiresNanos: now + 1_000_000_000_000,
            reenroll: true,
            who: "t",
            atNanos: now
        )
        guard
            case .success(let replaced) = try await store.redeem(
                token: again.token,
                publicKey: keyB,
                peer: "p",
                atNanos: now + 1
            )
        else {
            Issue.record("the re-enrolment token did not enrol")
            return
        }
        #expect(replaced.id == agent.id)
        #expect(replaced.publicKey == keyB)
        #expect(try await store.keyHolder(publicKey: keyA)?.untilNanos == now + 1)
        #expect(try await store.findings().map(\.kind) == [.reenrolled])
        await database.drop()
    }
}
