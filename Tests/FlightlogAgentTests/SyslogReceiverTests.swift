import Crypto
import FlightlogSystem
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Glibc
import Logging
import Testing

@testable import FlightlogAgent

/// The syslog inputs fed by the real `logger` of util-linux (and by raw sockets for what `logger` never sends), read
/// through the collector into committed batches.
@Suite struct SyslogReceiverTests {
    let dir: TempDirectory

    init() throws {
        self.dir = try TempDirectory()
    }

    /// A collector and a receiver on a Unix socket in the test's directory and on UDP and TCP ports the kernel
    /// chooses, with a queue of `capacity` messages.
    private struct Rig {
        var collector: Collector
        var journal: Journal
        var counters: AgentCounters
        var receiver: SyslogReceiver
        var socketPath: String
    }

    private func rig(capacity: Int = 1000) async throws -> Rig {
        let socketPath = self.dir.file("log.sock")
        let syslog = SyslogConfiguration(
            unixPath: socketPath,
            udp: .init(host: "127.0.0.1", port: 0),
            tcp: .init(host: "127.0.0.1", port: 0),
            maxMessageBytes: 1024,
            queueMaxMessages: capacity
        )
        let configuration = AgentConfiguration(
            keyPath: self.dir.file("key"),
            stateDirectory: self.dir.file("state"),
            hostname: "ws-test",
            insecurePlaintext: true,
            flushIntervalMilliseconds: 10,
            timeZone: "UTC",
            syslog: syslog
        )
        let journal = try Journal(directory: configuration.stateDirectory, maxSpoolBytes: 1 << 26, nowNanos: 1)
        let counters = AgentCounters()
        var logger = Logger(label: "test.syslog")
        logger.logLevel = .critical
        let queue = SyslogQueue(capacity: capacity, counters: counters)
        let collector = try await Collector(
            configuration: configuration,
            journal: journal,
            signingKey: Curve25519.Signing.PrivateKey(),
            counters: counters,
            logger: logger,
            syslog: queue
        )
        let receiver = try await SyslogReceiver.bind(
            configuration: syslog,
            queue: queue,
            counters: counters,
            logger: logger
        )
        return Rig(
            collector: collector,
            journal: journal,
            counters: counters,
            receiver: receiver,
            socketPath: socketPath
        )
    }

    /// Runs `body` while the receiver runs; stops it afterwards (the socket file goes with it).
    private func receiving(_ rig: Rig, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await rig.receiver.run() }
            do {
                try await body()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    private func committedEvents(_ journal: Journal) async throws -> [Event] {
        try await journal.committedEvents()
    }

    /// Steps the collector until a committed event satisfies `match`; returns it.
    private func waitForEvent(_ rig: Rig, _ match: @escaping (Event) -> Bool) async throws -> Event {
        var found: Event?
        try await eventually(seconds: 30) {
            _ = try await rig.collector.step(draining: true)
            found = try await self.committedEvents(rig.journal).first(where: match)
            return found != nil
        }
        return try #require(found)
    }

    private static func fields(_ event: Event) -> [String: String] {
        Dictionary(event.fields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    private static func text(_ event: Event) -> String { String(decoding: event.line, as: UTF8.self) }

    private static func logger(_ arguments: [String]) throws -> Int32 {
        let process = try Subprocess("/usr/bin/logger", arguments)
        #expect(process.waitUntilExit() == 0, "logger \(arguments)")
        return process.processIdentifier
    }

    // MARK: - Unix socket

    /// `logger -t sshd --id=4242` claims to be sshd with pid 4242: the event keeps that claim in `program` and
    /// `pid`, and records who really sent it (the logger process, our uid and gid) in the trusted fields.
    @Test func unixSocketRecordsTheKernelsCredentialsApartFromTheClaim() async throws {
        let rig = try await self.rig()
        try await self.receiving(rig) {
            let line = "Failed password for root from 203.0.113.9 port 22 ssh2"
            let loggerPID = try Self.logger(["-u", rig.socketPath, "-t", "sshd", "--id=4242", line])
            let event = try await self.waitForEvent(rig) { Self.text($0).hasSuffix(line) }
            let fields = Self.fields(event)
            #expect(event.source == "syslog:unix:\(rig.socketPath)")
            #expect(event.host == "ws-test")
            #expect(fields["program"] == "sshd")
            #expect(fields["pid"] == "4242")
            #expect(fields["user"] == "root")
            #expect(fields["src_ip"] == "203.0.113.9")
            #expect(fields["peer_pid"] == String(loggerPID))
            #expect(fields["peer_pid"] != fields["pid"])
            #expect(fields["peer_uid"] == String(getuid()))
            #expect(fields["peer_gid"] == String(getgid()))

            // A message cannot plant a trusted field: the JSON key is dropped, the kernel's value kept.
            #expect(UnixDatagramSocket.send(Array(#"{"peer_pid":"1","msg":"forged"}"#.utf8), to: rig.socketPath))
            let forged = try await self.waitForEvent(rig) { Self.text($0).contains("forged") }
            #expect(forged.fields.filter { $0.key == "peer_pid" } == [Event.Field("peer_pid", String(getpid()))])
        }
        #expect(!FileManager.default.fileExists(atPath: rig.socketPath), "the socket file is removed on stop")
    }

    /// A socket file left by a process that died is replaced; one in use, or a file that is not a socket, is an
    /// error that names the path.
    @Test func aStaleSocketIsReplacedAndOthersAreRefused() throws {
        let live = self.dir.file("live.sock")
        let stale = self.dir.file("stale.sock")
        let socket = try UnixDatagramSocket.bind(path: live)
        // A second name for the live socket: once the socket closes, that name is a socket nobody is bound to.
        #expect(link(live, stale) == 0)
        #expect(throws: SocketError.inUse(path: live)) { try UnixDatagramSocket.bind(path: live) }
        #expect(throws: SocketError.inUse(path: stale)) { try UnixDatagramSocket.bind(path: stale) }
        socket.close()
        #expect(!FileManager.default.fileExists(atPath: live))
        // Until then the socket may live on for a moment in a child another test is spawning (fork copies the
        // descriptor until exec closes it): wait for it to be gone, with a deadline.
        let deadline = Date().addingTimeInterval(10)
        var replaced: UnixDatagramSocket?
        while replaced == nil {
            do {
                replaced = try UnixDatagramSocket.bind(path: stale)
            } catch {
                guard case .inUse = error, Date() < deadline else { throw error }
                usleep(10_000)
            }
        }
        replaced?.close()

        try self.dir.append("plain", "not a socket")
        #expect(throws: SocketError.notASocket(path: self.dir.file("plain"))) {
            try UnixDatagramSocket.bind(path: self.dir.file("plain"))
        }
        #expect(FileManager.default.fileExists(atPath: self.dir.file("plain")))
        let long = "/tmp/" + String(repeating: "x", count: UnixDatagramSocket.maxPathLength)
        #expect(throws: SocketError.pathTooLong(path: long, limit: UnixDatagramSocket.maxPathLength)) {
            try UnixDatagramSocket.bind(path: long)
        }
    }

    // MARK: - UDP and TCP

    enum Transport: String, CaseIterable, Sendable {
        case udp, tcpOctetCounting, tcpLineFeed

        var flags: [String] {
            switch self {
            case .udp: ["--udp"]
            case .tcpOctetCounting: ["--tcp", "--octet-count"]
            case .tcpLineFeed: ["--tcp"]
            }
        }
    }

    @Test(arguments: Transport.allCases, ["--rfc3164", "--rfc5424"])
    func networkMessagesAreParsedLikeFileLines(_ transport: Transport, _ format: String) async throws {
        let rig = try await self.rig()
        try await self.receiving(rig) {
            let port = try #require(transport == .udp ? rig.receiver.udpPort : rig.receiver.tcpPort)
            let line = "Accepted password for mchen from 203.0.113.7 port 4711 ssh2"
            _ = try Self.logger(
                transport.flags + ["-n", "127.0.0.1", "-P", String(port), format, "-t", "sshd", line]
            )
            let event = try await self.waitForEvent(rig) { Self.text($0).hasSuffix(line) }
            let fields = Self.fields(event)
            #expect(event.source == "syslog:\(transport == .udp ? "udp" : "tcp"):127.0.0.1:\(port)")
            #expect(fields["program"] == "sshd")
            #expect(fields["user"] == "mchen")
            #expect(fields["src_ip"] == "203.0.113.7")
            #expect(fields["facility"] == "user")
            #expect(fields["peer_pid"] == nil)
            #expect(event.flags.contains(.timeFromLine))
        }
    }

    /// A bad octet count (`abc`) or a count over the cap closes that connection with a counted error; the frame
    /// before it is kept, other connections go on, and the receiver keeps accepting.
    @Test func garbageOnTCPClosesOnlyThatConnection() async throws {
        let rig = try await self.rig()
        try await self.receiving(rig) {
            let port = try #require(rig.receiver.tcpPort)
            let good = try #require(LoopbackTCP.connect(port: port))
            defer { close(good) }
            let garbage = try #require(LoopbackTCP.connect(port: port))
            defer { close(garbage) }
            let oversized = try #require(LoopbackTCP.connect(port: port))
            defer { close(oversized) }
            let before = "<13>before abc"
            try TempDirectory.writeAll(garbage, Array("\(before.utf8.count) \(before)abc <13>after garbage".utf8))
            try TempDirectory.writeAll(oversized, Array("99999 <13>x".utf8))
            // The error is counted just after the connection closes. (A full test run on two busy cores once took
            // this past 30 s; the state is recorded if it does not happen at all.)
            do {
                try await eventually(seconds: 120) {
                    Self.isClosed(garbage) && Self.isClosed(oversized) && rig.counters["syslog_frame_errors"] >= 2
                }
            } catch {
                let state =
                    "garbage closed: \(Self.isClosed(garbage)), oversized closed: \(Self.isClosed(oversized)), frame errors: \(rig.counters["syslog_frame_errors"])"
                Issue.record(Comment(rawValue: state))
                throw error
            }
            #expect(rig.counters["syslog_frame_errors"] == 2)

            try TempDirectory.writeAll(good, Array("<13>Nov 24 10:00:00 h app: still here\n".utf8))
            _ = try await self.waitForEvent(rig) { Self.text($0).hasSuffix("still here") }
            #expect(!Self.isClosed(good))
            _ = try Self.logger(["--tcp", "--octet-count", "-n", "127.0.0.1", "-P", String(port), "new connection"])
            _ = try await self.waitForEvent(rig) { Self.text($0).hasSuffix("new connection") }
            let lines = try await self.committedEvents(rig.journal).map(Self.text)
            #expect(lines.contains("<13>before abc"))
            #expect(!lines.contains { $0.contains("after garbage") })
        }
    }

    /// Whether the peer closed the connection (without waiting).
    private static func isClosed(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let result = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
        return result == 0 || (result < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    // MARK: - A full queue

    /// A datagram cannot be refused: with a queue of 4 and nothing draining it, a burst of 50 datagrams keeps 4,
    /// drops the rest, and the collector ships the drop count, which is exactly what was sent and not received.
    @Test func droppedDatagramsAreCountedAndShipped() async throws {
        let rig = try await self.rig(capacity: 4)
        let sent = 50
        try await self.receiving(rig) {
            try self.dir.append("burst", lines: (0..<sent).map { "burst message \($0)" })
            // Unix datagram sends block while the socket's backlog is full, so all 50 reach the receiver.
            _ = try Self.logger(["-u", rig.socketPath, "-t", "app", "-f", self.dir.file("burst")])
            try await eventually(seconds: 30) {
                rig.counters["syslog_received"] + rig.counters["syslog_dropped"] == UInt64(sent)
            }
            #expect(rig.counters["syslog_received"] == 4)
            let dropped = try await self.waitForEvent(rig) { Self.fields($0)["action"] == "syslog_dropped" }
            #expect(dropped.source == Collector.lifecycleSource)
            let events = try await self.committedEvents(rig.journal)
            let received = events.filter { Self.text($0).contains("burst message") }.count
            #expect(received == 4)
            #expect(Self.fields(dropped)["dropped"] == String(sent - received))
            #expect(rig.counters["syslog_dropped"] == UInt64(sent - received))
        }
    }

    /// A TCP sender is held back instead: with a queue of 2, 40 messages on one connection all arrive, in order,
    /// none dropped, as the collector drains.
    @Test func aFullQueueHoldsTCPSendersBackWithoutLoss() async throws {
        let rig = try await self.rig(capacity: 2)
        try await self.receiving(rig) {
            let port = try #require(rig.receiver.tcpPort)
            let connection = try #require(LoopbackTCP.connect(port: port))
            defer { close(connection) }
            let messages = (0..<40).map { "<13>Nov 24 10:00:00 h app: held \($0)" }
            try TempDirectory.writeAll(connection, Array(messages.map { $0 + "\n" }.joined().utf8))
            try await eventually(seconds: 120) { rig.counters["syslog_received"] == 2 }
            #expect(rig.counters["syslog_dropped"] == 0)
            _ = try await self.waitForEvent(rig) { Self.text($0).hasSuffix("held 39") }
            let lines = try await self.committedEvents(rig.journal).map(Self.text).filter { $0.contains("held") }
            #expect(lines == messages)
            #expect(rig.counters["syslog_dropped"] == 0)
        }
    }
}
