import ArgumentParser
import FlightlogEvidence
import FlightlogPostgres
import FlightlogStore
import FlightlogWire
import Foundation

struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "List enrolled agents: key, enrolment, last seen, chain position, counts and open findings.",
        discussion: """
            Who is silent? Who has gaps? STATE says, from the stored evidence rather than the clock of whoever reads \
            it (a copy examined days later reads the same): "silent 12m" when the agent's last log line trails the \
            newest line of the whole fleet by more than --silence, "stopped" when its last event is its own stop \
            (SIGTERM, `systemctl stop`: on a workstation nobody logged off, an attacker's move), "revoked", else \
            "active". LAST LINE is the time of its last log line, its own lifecycle events left out. FINDINGS counts \
            gaps, equivocations, broken links, new epochs and rejected batches recorded for the agent.

            Examples:
              flightlog agents --db flightlog.db
              flightlog agents --db flightlog.db --silence 30m
              flightlog agents --store postgres://flightlog@db1/flightlog
              flightlog agents --db flightlog.db --format jsonl | jq 'select(.state != "active")'
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions

    @Option(help: "Output format: table or jsonl. Example: --format jsonl")
    var format: ListFormat = .table

    @Option(
        help: ArgumentHelp(
            "Call an agent silent when its last line trails the fleet's newest by more than this. Example: --silence 30m",
            valueName: "duration"
        )
    )
    var silence: String = "10m"

    @Flag(help: "List the enrolment tokens instead: name, state (unused, used, expired, revoked), who used them.")
    var tokens = false

    func run() async throws {
        if self.tokens {
            try await self.listTokens()
            return
        }
        let summaries: [AgentSummary]
        let activity: [Int64: AgentActivity]
        let silenceNanos: Int64
        do {
            silenceNanos = try TimeExpression.parseDuration(self.silence)
            if let postgres = try await self.store.openPostgres() {
                defer { postgres.close() }
                // The last line of each agent (STATE's silence) is not read from PostgreSQL yet: "active" unless
                // revoked.
                summaries = try await postgres.agentSummaries()
                activity = [:]
            } else {
                let store = try Storage.openReadOnly(path: self.database.db, onDamagedIndex: .leaveOut)
                summaries = try await store.agentSummaries()
                activity = try await store.agentActivity()
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let newestLine = activity.values.compactMap(\.lastLineNanos).max()
        func state(_ summary: AgentSummary) -> String {
            Self.state(summary, activity[summary.agent.id], newestLine: newestLine, silenceNanos: silenceNanos)
        }
        func time(_ nanos: Int64?) -> String { nanos.map(Timestamp.rfc3339) ?? "-" }
        switch self.format {
        case .table:
            var rows = [
                [
                    "NAME", "STATE", "LAST LINE", "KEY", "ENROLLED", "REVOKED", "LAST SEEN", "EPOCH", "LAST SEQ",
                    "BATCHES", "EVENTS", "GAPS", "EQUIV", "FINDINGS",
                ]
            ]
            for s in summaries {
                rows.append([
                    s.agent.name, state(s), time(activity[s.agent.id]?.lastLineNanos), s.agent.fingerprint,
                    time(s.agent.enrolledNanos), time(s.agent.revokedNanos),
                    time(s.agent.lastSeenNanos), s.currentEpoch.map { String($0) } ?? "-",
                    s.lastSequence.map { String($0) } ?? "-", String(s.batches), String(s.events), String(s.gaps),
                    String(s.equivocations), String(s.openFindings),
                ])
            }
            Output.line(Output.table(rows))
        case .jsonl:
            for s in summaries {
                var out: [UInt8] = []
                func add(_ key: String, _ value: String?, quoted: Bool = true, first: Bool = false) {
                    out += Array((first ? "{" : ",").utf8)
                    FieldsJSON.appendString(key, to: &out)
                    out.append(UInt8(ascii: ":"))
                    if let value {
                        if quoted { FieldsJSON.appendString(value, to: &out) } else { out += Array(value.utf8) }
                    } else {
                        out += Array("null".utf8)
                    }
                }
                add("name", s.agent.name, first: true)
                add("state", state(s))
                add("last_line", activity[s.agent.id]?.lastLineNanos.map(Timestamp.rfc3339))
                add("stopped", activity[s.agent.id]?.stopped == true ? "true" : "false", quoted: false)
                add("key_fingerprint", s.agent.fingerprint)
                add("public_key", Data(s.agent.publicKey.bytes).base64EncodedString())
                add("enrolled", time(s.agent.enrolledNanos))
                add("revoked", s.agent.revokedNanos.map(Timestamp.rfc3339))
                add("last_seen", s.agent.lastSeenNanos.map(Timestamp.rfc3339))
                add("clock_skew_ms", s.agent.lastSkewNanos.map { String($0 / 1_000_000) }, quoted: false)
                add("last_address", s.agent.lastAddress)
                add("epoch", s.currentEpoch.map { String($0) }, quoted: false)
                add("last_sequence", s.lastSequence.map { String($0) }, quoted: false)
                add("epochs", String(s.epochs), quoted: false)
                add("batches", String(s.batches), quoted: false)
                add("events", String(s.events), quoted: false)
                add("gaps", String(s.gaps), quoted: false)
                add("equivocations", String(s.equivocations), quoted: false)
                add("findings", String(s.openFindings), quoted: false)
                out.append(UInt8(ascii: "}"))
                Output.line(String(decoding: out, as: UTF8.self))
            }
        }
    }

    /// STATE: revoked; silent (by how much its last line trails the fleet's newest) and/or stopped; else active.
    static func state(
        _ summary: AgentSummary,
        _ activity: AgentActivity?,
        newestLine: Int64?,
        silenceNanos: Int64
    )
        -> String
    {
        if summary.agent.revokedNanos != nil { return "revoked" }
        var words: [String] = []
        if silenceNanos > 0, let newest = newestLine {
            let trail = newest.subtractingSaturating(activity?.lastLineNanos ?? Int64.min)
            if trail >= silenceNanos {
                words.append(activity?.lastLineNanos == nil ? "silent (no lines)" : "silent \(Self.minutes(trail))")
            }
        }
        if activity?.stopped == true { words.append("stopped") }
        return words.isEmpty ? "active" : words.joined(separator: ", ")
    }

    /// `12m`, `3h05m`, `2d04h`.
    static func minutes(_ nanos: Int64) -> String {
        let minutes = nanos / 60_000_000_000
        if minutes < 60 { return "\(minutes)m" }
        if minutes < 48 * 60 { return "\(minutes / 60)h" + String(format: "%02dm", minutes % 60) }
        return "\(minutes / 1440)d" + String(format: "%02dh", (minutes % 1440) / 60)
    }

    private func listTokens() async throws {
        let tokens: [EnrolmentToken]
        do {
            if let postgres = try await self.store.openPostgres() {
                defer { postgres.close() }
                tokens = try await postgres.tokens()
            } else {
                tokens = try await Storage.openReadOnly(path: self.database.db, onDamagedIndex: .leaveOut).tokens()
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let now = nowNanos()
        func time(_ nanos: Int64?) -> String { nanos.map(Timestamp.rfc3339) ?? "-" }
        switch self.format {
        case .table:
            var rows = [["ID", "NAME", "STATE", "ISSUED", "EXPIRES", "BY", "USED", "USED FROM", "KEY"]]
            for token in tokens {
                rows.append([
                    String(token.id), token.name + (token.reenroll ? " (re-enrol)" : ""), token.state(nowNanos: now),
                    time(token.createdNanos), time(token.expiresNanos), token.createdBy, time(token.usedNanos),
                    token.usedPeer ?? "-",
                    token.usedKey.map { "sha256:" + String(KeyText.fingerprint($0).prefix(16)) } ?? "-",
                ])
            }
            Output.line(Output.table(rows))
        case .jsonl:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for token in tokens {
                let object: [String: String?] = [
                    "id": String(token.id), "name": token.name, "state": token.state(nowNanos: now),
                    "reenroll": token.reenroll ? "true" : "false", "issued": time(token.createdNanos),
                    "expires": time(token.expiresNanos), "created_by": token.createdBy,
                    "used": token.usedNanos.map(Timestamp.rfc3339), "used_from": token.usedPeer,
                    "used_key": token.usedKey.map { Data($0.bytes).base64EncodedString() },
                ]
                if let data = try? encoder.encode(object) { Output.line(String(decoding: data, as: UTF8.self)) }
            }
        }
    }
}

/// Key fingerprints as `flightlog agents` shows them.
enum KeyText {
    static func fingerprint(_ key: Bytes32) -> String { KeyID.of(publicKeyBytes: key).hex }
}
