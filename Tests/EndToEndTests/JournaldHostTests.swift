import FlightlogTestSupport
import Foundation
import Glibc
import Testing

@testable import FlightlogStore

extension FaultInjectionTests {
    /// A host with no syslog daemon, as Debian 12 installs it: the real systemd-journald owns /dev/log, and PAM, su,
    /// runuser and `logger` write only to the journal. The agent, configured with `journal: true` alone, must ship what
    /// they wrote.
    ///
    /// journald runs in a private mount namespace (`unshare -m`, root only) with its own /run and a /dev whose `log`
    /// points at it, so the machine's own /run and /dev are untouched.
    @Suite("End to end: a host that logs only to journald", .serialized)
    struct JournaldHostTests {
        static var canRun: Bool {
            getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd-journald")
                && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
        }

        /// What runs inside the namespace: journald, the agent (system journal), then real programs that log.
        static let script = #"""
            set -eu
            agent="$1"; config="$2"; pidfile="$3"; scratch="$4"
            mkdir -p "$scratch/host-dev"
            mount --bind /dev "$scratch/host-dev"
            mount -t tmpfs -o mode=755 tmpfs /run
            mount -t tmpfs -o mode=755 tmpfs /dev
            for node in null zero full random urandom tty; do touch /dev/$node; mount --bind "$scratch/host-dev/$node" /dev/$node; done
            mkdir /dev/pts /dev/shm
            mount --bind "$scratch/host-dev/pts" /dev/pts
            mount -t tmpfs tmpfs /dev/shm
            ln -s /proc/self/fd /dev/fd
            ln -s /run/systemd/journal/dev-log /dev/log
            umount "$scratch/host-dev"
            /lib/systemd/systemd-journald >"$scratch/journald.log" 2>&1 &
            journald=$!
            echo $journald >"$scratch/journald.pid"
            trap 'kill $journald 2>/dev/null || true' EXIT
            for i in $(seq 200); do [ -S /run/systemd/journal/dev-log ] && break; sleep 0.05; done
            "$agent" run --config "$config" >"$scratch/agent.log" 2>&1 &
            agent_pid=$!
            echo $agent_pid >"$pidfile"
            # A PAM session by su and by runuser, as root switching to nobody; a line claiming to be sshd.
            su -s /bin/sh -c true nobody
            runuser -u nobody -- true
            logger -t sshd "Accepted password for mallory from 203.0.113.99 port 4242 ssh2"
            wait $agent_pid
            """#

        @Test(.enabled(if: canRun)) func theAgentShipsWhatPAMAndLoggerWroteToJournald() async throws {
            let site = try await EndToEndSite(agent: "ws-jd")
            let (scratch, db, port) = (site.scratch, site.db, site.port)
            defer { scratch.cleanup() }
            let server = try await site.startServer()
            defer { if server.isRunning { Harness.killHard(server) } }

            // The documented configuration: the journal, nothing else to read.
            let config = """
                aggregator: 127.0.0.1:\(port)
                key: \(scratch.file("agent.key"))
                state_dir: \(scratch.file("state"))
                hostname: ws-jd
                insecure_plaintext: true
                flush_interval_ms: 50
                journal: true
                """
            try config.write(toFile: scratch.file("agent.yaml"), atomically: true, encoding: .utf8)
            try Self.script.write(toFile: scratch.file("journald-host.sh"), atomically: true, encoding: .utf8)
            let host = try Subprocess(
                "/usr/bin/unshare",
                [
                    "-m", "/bin/bash", scratch.file("journald-host.sh"), try Executables.path("flightlog-agent"),
                    scratch.file("agent.yaml"), scratch.file("agent.pid"), scratch.path,
                ],
                stdout: scratch.file("host.log"),
                stderr: scratch.file("host.log")
            )
            defer {
                // The agent inside the namespace is the script's child: killing the script alone would leave it.
                FullDiskTests.killRecorded(scratch.file("agent.pid"))
                FullDiskTests.killRecorded(scratch.file("journald.pid"))
                if host.isRunning { host.signal(SIGKILL) }
            }

            let lines = { @Sendable () async throws -> [String] in
                let store = try SQLiteStore(readOnlyPath: db)
                return try await store.lines(agentName: "ws-jd").map { String(decoding: $0, as: UTF8.self) }
            }
            do {
                try await Harness.eventuallyAsync(seconds: 60, "su, runuser and logger lines indexed") {
                    let stored = (try? await lines()) ?? []
                    return stored.contains { $0.contains("pam_unix(su:session): session opened for user nobody") }
                        && stored.contains { $0.contains("pam_unix(runuser:session): session opened for user nobody") }
                        && stored.contains { $0.contains("Accepted password for mallory") }
                }
            } catch {
                let log = { (name: String) in (try? String(contentsOfFile: scratch.file(name), encoding: .utf8)) ?? "" }
                Issue.record("host:\n\(log("host.log"))\nagent:\n\(log("agent.log").suffix(3000))")
                throw error
            }
            // Stop the agent (SIGTERM: a final batch), then journald with the namespace.
            let pid = Int32(
                (try String(contentsOfFile: scratch.file("agent.pid"), encoding: .utf8))
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            )
            #expect(pid != nil)
            if let pid { kill(pid, SIGTERM) }
            #expect(await host.exited() == 0)

            // su's session: the target user as the file parser finds it in auth.log.
            let su = try await Harness.runAsync(
                "flightlog",
                ["query", "--db", db, "--program", "su", "--format", "jsonl"]
            )
            #expect(su.code == 0, "\(su.err)")
            #expect(su.out.contains("\"user.target.name\":\"nobody\""), "\(su.out)")
            #expect(su.out.contains("\"event.action\":\"su\""), "\(su.out)")
            // journald's own view of the sender: its uid, from the socket's credentials (always there). `_COMM` and
            // `_EXE` are read from /proc and may be missing for a process that exited first, as su does under load.
            #expect(su.out.contains("\"user.id\":\"0\""), "\(su.out)")
            // The line that claims sshd is found by its address, and flagged: as logger's when journald saw logger, as
            // unverified when logger exited before journald could read its /proc entry (both happen).
            let claimed = try await Harness.runAsync("flightlog", ["query", "--db", db, "--ip", "203.0.113.99"])
            #expect(claimed.out.contains("mallory"), "\(claimed.out)")
            // (`_EXE` may be missing even when `_COMM` is there: journald reads them one after the other.)
            #expect(
                claimed.out.contains("[identity: SYSLOG_IDENTIFIER=sshd but _COMM=logger")
                    || claimed.out.contains("[identity: SYSLOG_IDENTIFIER=sshd but no _COMM: the sender exited"),
                "\(claimed.out)"
            )
            let agentLines = try await lines().filter { $0.hasPrefix("flightlog-agent") }
            #expect(agentLines.contains { $0.contains("opened journal at its start") }, "\(agentLines)")
            #expect(agentLines.contains { $0.hasPrefix("flightlog-agent stopping") })
        }
    }
}
