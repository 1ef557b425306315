import Crypto
import FlightlogAgent
import FlightlogAggregator
import FlightlogEvidence
import FlightlogStore
import FlightlogTLS
import FlightlogWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

// flightlog-bench ingest [EVENTS] [CONNECTIONS] [DBPATH]
//                                                 aggregator ingest over loopback TCP, signatures verified, acks durable;
//                                                 prints the rate per 500k events; DBPATH (kept) grows a database
//                                                 across runs, for the sustained rate on a large one
//                                                 FLIGHTLOG_BENCH_LINES=FILE: the lines of FILE (cycled), e.g.
//                                                 shared/bench/peers/lib/gen_logs.py's ~200-byte lines;
//                                                 FLIGHTLOG_BENCH_BATCH=N: N events per batch (default 1,000)
//                                                 FLIGHTLOG_BENCH_TLS=1: over TLS 1.3 (a private CA made for the run,
//                                                 the agent's own client side: ShipperTLS with the CA's pin)
// flightlog-bench storm [CONNECTIONS]             a reconnect storm: CONNECTIONS (2,000) agents connect at once over
//                                                 TLS 1.3, shake hands (HELLO…WELCOME) and have one batch of 10 events
//                                                 acknowledged each; FLIGHTLOG_BENCH_TLS=0 for plaintext
// flightlog-bench agent [LINES]                   agent catch-up: tail + parse + batch + compress + sign + spool
// flightlog-bench journal [ENTRIES]               the journal source: ENTRIES (200,000) entries caught up, as many
//                                                 followed while systemd-journal-remote appends them (JournalBench.swift)
// flightlog-bench parse [LINES]                   the agent's line parser alone on LINES (30,000) lines of three formats
//                                                 FLIGHTLOG_BENCH_CORPUS=generated|mixed (agent, parse): the agent's
//                                                 generated lines, or the mixed corpus of MixedCorpus.swift (public
//                                                 samples of every grammar, ISO and BSD times); parse then reads that
//                                                 corpus instead of the three formats
// flightlog-bench nodes URL EVENTS CONNECTIONS PORT[,PORT…]
//                                                 ingest through `flightlog serve --store URL` nodes on those ports
//                                                 (Benchmarks/postgres-nodes.sh starts them; NodesBench.swift)
// flightlog-bench parse-dump FILE…                every line of the files (and variants with non-ASCII text) parsed,
//                                                 one result a line: two builds' outputs must be equal

let arguments = CommandLine.arguments
let mode = arguments.count > 1 ? arguments[1] : "ingest"

func now() -> Double { Date().timeIntervalSince1970 }

func rssMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "0") ?? 0
        return kb / 1024
    }
    return 0
}

func currentRSSMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "0") ?? 0
        return kb / 1024
    }
    return 0
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

// MARK: - TLS

/// A private CA and server certificate for 127.0.0.1, as `flightlog tls-init` makes them, and the agent's client side
/// trusting the CA by its pin (what tls-init prints).
func makeTLS(in dir: String) throws -> (ServerCredentials, ShipperTLS) {
    let ca = try PrivateCA.make(names: ["localhost"], addresses: ["127.0.0.1"])
    try PrivateCA.write(
        try PrivateCA.pem(ca.serverCertificate) + PrivateCA.pem(ca.caCertificate),
        to: dir + "/server.pem",
        mode: 0o644
    )
    try PrivateCA.write(try PrivateCA.pem(ca.serverKey), to: dir + "/server.key", mode: 0o600)
    let credentials = try ServerCredentials(certificatePath: dir + "/server.pem", keyPath: dir + "/server.key")
    let pin = try CertificatePin(ca.caCertificate)
    let client = try ShipperTLS(trust: AggregatorTrust(roots: [], pins: [pin]))
    return (credentials, client)
}

// MARK: - Ingest

func ingest(totalEvents: Int, connections: Int, keptPath: String?) async throws {
    let dir = NSTemporaryDirectory() + "flightlog-bench-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let databasePath = keptPath ?? dir + "/bench.db"
    let store = try Storage.open(path: databasePath)
    let eventsBefore = try await store.counts().events
    // Into a database that already holds events, the lines' times continue after the newest stored one, as a fleet's
    // would; replayed as they are, every new entry of the time-ordered indexes would land between the stored ones.
    var newest = EventQuery()
    newest.order = .desc
    newest.limit = 1
    var latestStored: Int64 = 0
    _ = try store.forEachEvent(newest) { event in
        latestStored = event.timeNanos
        return false
    }
    var timeShift: Int64?
    let run = UUID().uuidString.prefix(8)
    let (plans, batchesPerConnection, eventsPerBatch, lineBytes) = try await buildPlans(
        totalEvents: totalEvents,
        connections: connections,
        enroll: { name, key in
            try await store.enroll(name: "\(name)-\(run)", publicKeyBase64: key, atNanos: 1)
        },
        time: { parsed, observed in
            var time = parsed ?? observed
            if eventsBefore > 0 {
                let shift = timeShift ?? (latestStored + 1_000_000_000 - time)
                timeShift = shift
                time += shift
            }
            return (time, parsed == nil || eventsBefore > 0 ? [] : .timeFromLine)
        }
    )
    let total = connections * batchesPerConnection * eventsPerBatch
    print(
        "ingest: \(connections) connections × \(batchesPerConnection) batches × \(eventsPerBatch) events = \(total) events, avg line \(lineBytes / total) bytes, \(eventsBefore) events already stored, RSS \(Int(currentRSSMiB())) MiB with every batch built"
    )

    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let metrics = AggregatorMetrics()
    let tls = ProcessInfo.processInfo.environment["FLIGHTLOG_BENCH_TLS"] == "1" ? try makeTLS(in: dir) : nil
    print("ingest: transport \(tls == nil ? "plaintext" : "TLS 1.3")")
    let server = try await IngestServer(
        configuration: AggregatorConfiguration(host: "127.0.0.1", port: 0, tls: tls?.0),
        store: store,
        metrics: metrics,
        logger: logger
    )
    let group = ServiceGroup(services: [server], logger: logger)
    let port = server.port
    let cpuBefore = cpuSeconds()
    let start = now()
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let peakWAL = Mutex(0)
        let monitor = Task {
            var reported = 0
            var last = (at: start, cpu: cpuBefore)
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                let wal = (try? FileManager.default.attributesOfItem(atPath: databasePath + "-wal")[.size] as? Int) ?? 0
                peakWAL.withLock { $0 = max($0, wal) }
                let stored = Int(metrics["events_stored"])
                guard stored >= reported + 500_000 else { continue }
                let (at, cpu) = (now(), cpuSeconds())
                print(
                    String(
                        format:
                            "ingest: %d–%d k (database %d k): %.0f events/s, %.1f µs CPU/event, full-text lag %d events, RSS %.0f MiB",
                        reported / 1000,
                        stored / 1000,
                        (eventsBefore + stored) / 1000,
                        Double(stored - reported) / (at - last.at),
                        (cpu - last.cpu) / Double(stored - reported) * 1e6,
                        metrics["fts_lag_events"],
                        currentRSSMiB()
                    )
                )
                reported = stored
                last = (at, cpu)
            }
        }
        defer { monitor.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { clients in
            for (key, batches) in plans {
                clients.addTask { try await ship(key: key, batches: batches, port: port, tls: tls?.1) }
            }
            try await clients.waitForAll()
        }
        let elapsed = now() - start
        let cpu = cpuSeconds() - cpuBefore
        let lagAtEnd = try await store.fullTextProgress().lag
        try await store.drainFullTextIndex()
        let caughtUp = now() - start - elapsed
        let cpuIndexed = cpuSeconds() - cpuBefore
        let counts = try await store.counts()
        print(
            String(
                format: "ingest: full-text lag when the last ack arrived %d events, caught up %.2f s later",
                lagAtEnd,
                caughtUp
            )
        )
        // The figure "with the full-text index keeping up": every event acknowledged and indexed.
        print(
            String(
                format: "ingest: acknowledged and indexed: %.0f events/s (%.2f s), CPU %.1f s (%.1f µs/event)",
                Double(counts.events - eventsBefore) / (elapsed + caughtUp),
                elapsed + caughtUp,
                cpuIndexed,
                cpuIndexed / Double(counts.events - eventsBefore) * 1e6
            )
        )
        print(
            String(
                format:
                    "ingest: %d events in %.2f s = %.0f events/s, %.1f MB/s of lines; CPU %.1f s (%.1f µs/event, client included)",
                counts.events - eventsBefore,
                elapsed,
                Double(counts.events - eventsBefore) / elapsed,
                Double(lineBytes) / elapsed / 1e6,
                cpu,
                cpu / Double(counts.events - eventsBefore) * 1e6
            )
        )
        print(
            "ingest: stored batches \(counts.batches), full-text rows \(counts.fullText), commits \(metrics["commits"]) taking \(metrics["commit_us"] / 1000) ms in the writer, peak RSS \(String(format: "%.0f", rssMiB())) MiB"
        )
        let size = (try? FileManager.default.attributesOfItem(atPath: databasePath)[.size] as? Int) ?? 0
        let ftsSize = FullTextLayout.paths(for: databasePath).reduce(0) { total, path in
            total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
        print(
            "ingest: database \(size / 1_048_576) MiB, full-text files \(ftsSize / 1_048_576) MiB, largest WAL of the database \(peakWAL.withLock { $0 } / 1_048_576) MiB"
        )
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// For each of `connections` agents, a new key enrolled through `enroll` (name, public key base64) and its chain of
/// signed batches, `totalEvents` in all, of generated lines parsed as the agent parses them; `time` gives each
/// event's time and flags from the time parsed from its line (nil when none) and its observed time.
/// FLIGHTLOG_BENCH_BATCH: events per batch (default 1,000; small batches from many connections are what a fleet of
/// quiet workstations sends); FLIGHTLOG_BENCH_LINES=FILE: the lines of FILE, cycled.
func buildPlans(
    totalEvents: Int,
    connections: Int,
    enroll: (String, String) async throws -> Void,
    time: (Int64?, Int64) -> (Int64, Event.Flags)
) async throws -> (
    plans: [(Curve25519.Signing.PrivateKey, [SignedBatch])], batchesPerConnection: Int, eventsPerBatch: Int,
    lineBytes: Int
) {
    let environment = ProcessInfo.processInfo.environment
    let eventsPerBatch = max(1, Int(environment["FLIGHTLOG_BENCH_BATCH"] ?? "") ?? 1000)
    let batchesPerConnection = max(1, totalEvents / connections / eventsPerBatch)
    var generator = try LineGenerator(file: environment["FLIGHTLOG_BENCH_LINES"])
    var lineBytes = 0
    let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
    var plans: [(Curve25519.Signing.PrivateKey, [SignedBatch])] = []
    for index in 0..<connections {
        let key = Curve25519.Signing.PrivateKey()
        try await enroll("bench-\(index)", key.publicKey.rawRepresentation.base64EncodedString())
        var previous = Bytes32.zero
        var batches: [SignedBatch] = []
        for sequence in 1...batchesPerConnection {
            var events: [Event] = []
            for n in 0..<eventsPerBatch {
                let line = generator.lineBytes()
                lineBytes += line.count
                let observed = 1_795_000_000_000_000_000 + Int64(sequence * eventsPerBatch + n)
                let parsed = parser.parse(line, observedNanos: observed)
                let (eventTime, flags) = time(parsed.timeNanos, observed)
                events.append(
                    Event(
                        timeNanos: eventTime,
                        observedNanos: observed,
                        flags: flags,
                        host: "bench-\(index)",
                        source: "/var/log/bench.log",
                        line: line,
                        fields: parsed.fields
                    )
                )
            }
            let header = BatchHeader(
                keyID: KeyID.of(key.publicKey),
                epoch: 1,
                sequence: UInt64(sequence),
                previousHash: previous,
                createdNanos: 1,
                events: events
            )
            let batch = try SignedBatch.build(events: events, header: header, signingKey: key)
            previous = batch.hash
            batches.append(batch)
        }
        plans.append((key, batches))
    }
    return (plans, batchesPerConnection, eventsPerBatch, lineBytes)
}

/// One agent connection: handshake, then batches with a window of 64, counting acks.
func ship(
    key: Curve25519.Signing.PrivateKey,
    batches: [SignedBatch],
    port: Int,
    tls: ShipperTLS?,
    heartbeat: Bool = true
) async throws {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connectTimeout(.seconds(60))
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls { try channel.pipeline.syncOperations.addHandler(try tls.handler(host: "127.0.0.1")) }
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                return try NIOAsyncChannel<Frame, Frame>(wrappingChannelSynchronously: channel)
            }
        }
    try await channel.executeThenClose { inbound, outbound in
        var frames = inbound.makeAsyncIterator()
        let publicKey = Bytes32(key.publicKey.rawRepresentation) ?? .zero
        try await outbound.write(.hello(Hello(publicKey: publicKey, epoch: 1, agentTimeNanos: 0, agentName: "bench")))
        guard case .challenge(let challenge) = try await frames.next() else { throw BenchError("no challenge") }
        let message = Handshake.proofMessage(nonce: challenge.nonce, publicKey: publicKey, epoch: 1)
        try await outbound.write(.proof(Proof(signature: Array(try key.signature(for: message)))))
        guard case .welcome(let welcome) = try await frames.next() else { throw BenchError("no welcome") }
        // As an agent does while it waits for acks: a HEARTBEAT every H seconds, so that a long commit queue (2,000
        // connections) is not taken for a silent peer (3 × H closes it).
        let heartbeats = Task {
            while heartbeat && !Task.isCancelled {
                try await Task.sleep(for: .seconds(Int(welcome.heartbeatIntervalSeconds)))
                try await outbound.write(.heartbeat(Heartbeat(timeNanos: 0)))
            }
        }
        defer { heartbeats.cancel() }
        var sent = 0
        var acked = 0
        while acked < batches.count {
            while sent < batches.count && sent - acked < Int(welcome.window) {
                try await outbound.write(.batch(ByteBuffer(bytes: batches[sent].bytes)))
                sent += 1
            }
            guard let frame = try await frames.next() else { throw BenchError("closed") }
            if case .ack = frame { acked += 1 } else if case .error(let error) = frame { throw BenchError("\(error)") }
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Agent catch-up

/// A collector on a fresh state directory of `configuration`, logging errors only: the agent's reading path without
/// its shipper.
func benchCollector(
    _ configuration: AgentConfiguration,
    key: Curve25519.Signing.PrivateKey
) async throws -> (Collector, Journal, AgentCounters, Logger) {
    let journal = try Journal(
        directory: configuration.stateDirectory,
        maxSpoolBytes: configuration.spoolMaxBytes,
        nowNanos: 1
    )
    let counters = AgentCounters()
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let collector = try await Collector(
        configuration: configuration,
        journal: journal,
        signingKey: key,
        counters: counters,
        logger: logger
    )
    return (collector, journal, counters, logger)
}

func agentCatchUp(lines: Int) async throws {
    let dir = NSTemporaryDirectory() + "flightlog-bench-agent-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var corpus = try BenchCorpus.fromEnvironment()
    guard FileManager.default.createFile(atPath: dir + "/logs/big.log", contents: nil) else {
        throw BenchError("cannot create \(dir)/logs/big.log")
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/logs/big.log"))
    var chunk: [UInt8] = []
    var bytes = 0
    for index in 0..<lines {
        let line = corpus.lineBytes()
        bytes += line.count + 1
        chunk += line
        chunk.append(0x0a)
        if index % 10_000 == 9_999 {
            handle.write(Data(chunk))
            chunk.removeAll(keepingCapacity: true)
        }
    }
    handle.write(Data(chunk))
    try handle.close()
    print("agent: \(lines) lines (\(corpus.name) corpus), \(bytes / 1_048_576) MiB, avg \(bytes / lines) bytes")

    let key = Curve25519.Signing.PrivateKey()
    var configuration = AgentConfiguration(
        keyPath: dir + "/key",
        stateDirectory: dir + "/state",
        watch: [dir + "/logs/*.log"],
        hostname: "bench",
        insecurePlaintext: true,
        spoolMaxBytes: 1 << 40,
        timeZone: "UTC"
    )
    if let level = ProcessInfo.processInfo.environment["FLIGHTLOG_BENCH_ZLIB"], let value = Int(level) {
        configuration.compressionLevel = value
    }
    let (collector, journal, counters, logger) = try await benchCollector(configuration, key: key)
    let group = ServiceGroup(services: [collector], logger: logger)
    let cpuBefore = cpuSeconds()
    let start = now()
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        while counters["lines_read"] < UInt64(lines) || counters["events_built"] < UInt64(lines) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = now() - start
        let cpu = cpuSeconds() - cpuBefore
        let spool = await journal.spoolStatus
        print(
            String(
                format: "agent: %d lines in %.2f s = %.0f lines/s (%.1f MB/s); CPU %.1f s = %.0f lines per CPU-second",
                lines,
                elapsed,
                Double(lines) / elapsed,
                Double(bytes) / elapsed / 1e6,
                cpu,
                Double(lines) / cpu
            )
        )
        print(
            "agent: \(counters["batches_built"]) batches, spool \(spool.bytes / 1_048_576) MiB (compression \(String(format: "%.1f", Double(bytes) / Double(max(spool.bytes, 1))))×), peak RSS \(String(format: "%.0f", rssMiB())) MiB"
        )
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

// MARK: - Reconnect storm

/// `connections` enrolled agents connect at the same moment (an aggregator restart, a network back after an outage),
/// each shaking hands over TLS and having one batch of 10 events acknowledged, on a new connection. Prints the time
/// until the last ack, the handshake rate and each connection's time from connect to ack (p50, p99, max).
func storm(connections: Int) async throws {
    let dir = NSTemporaryDirectory() + "flightlog-bench-storm-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    // FLIGHTLOG_BENCH_KEEP=1 keeps the store (2,000 agents with a batch each), to time `flightlog agents` on it.
    let keep = ProcessInfo.processInfo.environment["FLIGHTLOG_BENCH_KEEP"] == "1"
    defer {
        if keep {
            print("storm: store kept in \(dir)/bench.db")
        } else {
            try? FileManager.default.removeItem(atPath: dir)
        }
    }
    let store = try Storage.open(path: dir + "/bench.db")
    let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
    var generator = LineGenerator()
    var plans: [(Curve25519.Signing.PrivateKey, SignedBatch)] = []
    for index in 0..<connections {
        let key = Curve25519.Signing.PrivateKey()
        try await store.enroll(
            name: "storm-\(index)",
            publicKeyBase64: key.publicKey.rawRepresentation.base64EncodedString(),
            atNanos: 1
        )
        let events = (0..<10).map { n in
            let line = generator.lineBytes()
            let observed = 1_795_000_000_000_000_000 + Int64(index * 10 + n)
            return parser.parse(line, observedNanos: observed).event(
                line: line,
                observedNanos: observed,
                host: "storm-\(index)",
                source: "/var/log/bench.log"
            )
        }
        let header = BatchHeader(
            keyID: KeyID.of(key.publicKey),
            epoch: 1,
            sequence: 1,
            previousHash: .zero,
            createdNanos: 1,
            events: events
        )
        plans.append((key, try SignedBatch.build(events: events, header: header, signingKey: key)))
    }
    let tls = ProcessInfo.processInfo.environment["FLIGHTLOG_BENCH_TLS"] == "0" ? nil : try makeTLS(in: dir)
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let metrics = AggregatorMetrics()
    let server = try await IngestServer(
        configuration: AggregatorConfiguration(host: "127.0.0.1", port: 0, tls: tls?.0),
        store: store,
        metrics: metrics,
        logger: logger
    )
    let group = ServiceGroup(services: [server], logger: logger)
    let port = server.port
    print("storm: \(connections) agents, transport \(tls == nil ? "plaintext" : "TLS 1.3 (P-256 certificate, CA pin)")")
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let cpuBefore = cpuSeconds()
        let start = now()
        let latencies = try await withThrowingTaskGroup(of: Double.self) { clients in
            for (key, batch) in plans {
                clients.addTask {
                    try await ship(key: key, batches: [batch], port: port, tls: tls?.1, heartbeat: false)
                    return now() - start
                }
            }
            var latencies: [Double] = []
            for try await latency in clients { latencies.append(latency) }
            return latencies.sorted()
        }
        let elapsed = now() - start
        let cpu = cpuSeconds() - cpuBefore
        let counts = try await store.counts()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print(
            String(
                format:
                    "storm: %d connections acknowledged in %.2f s = %.0f handshakes/s; connect to ack p50 %.2f s, p99 %.2f s, max %.2f s; CPU %.1f s (%.2f ms/connection, client included)",
                latencies.count,
                elapsed,
                Double(latencies.count) / elapsed,
                percentile(0.5),
                percentile(0.99),
                latencies.last ?? 0,
                cpu,
                cpu / Double(latencies.count) * 1000
            )
        )
        print(
            "storm: stored batches \(counts.batches), events \(counts.events), handshakes accepted \(metrics["handshakes_accepted"]), timed out \(metrics["handshakes_timed_out"]), peak RSS \(String(format: "%.0f", rssMiB())) MiB"
        )
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

// MARK: - Investigator queries on a large database

/// Builds a database of `total` events (real signed batches through the store's ingest path), then times the
/// investigator commands of the release `flightlog` binary next to this one.
func investigate(total: Int, path: String) async throws {
    let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let hosts = 40
    let day: Int64 = 86_400_000_000_000
    let start: Int64 = 1_795_000_000_000_000_000  // 2026-11-17
    if !FileManager.default.fileExists(atPath: path) {
        let store = try Storage.open(path: path)
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        var linker = AuditEventLinker()
        var keys: [Curve25519.Signing.PrivateKey] = []
        var agentIDs: [Int64] = []
        for index in 0..<hosts {
            let key = Curve25519.Signing.PrivateKey()
            let agent = try await store.enroll(
                name: String(format: "cc-ws-%03d", index),
                publicKeyBase64: key.publicKey.rawRepresentation.base64EncodedString(),
                atNanos: start
            )
            keys.append(key)
            agentIDs.append(agent.id)
        }
        var previous = [Bytes32](repeating: .zero, count: hosts)
        // FLIGHTLOG_BENCH_LINES=FILE: the lines of FILE, cycled (Benchmarks/sigmahq-10m.sh passes public samples).
        var generator = try LineGenerator(file: ProcessInfo.processInfo.environment["FLIGHTLOG_BENCH_LINES"])
        let perBatch = 1000
        let batches = total / perBatch
        // Events spread evenly over 7 days; batch b belongs to host b % hosts.
        let step = 7 * day / Int64(total)
        let began = now()
        var pending: [IngestItem] = []
        for b in 0..<batches {
            let host = b % hosts
            var events: [Event] = []
            events.reserveCapacity(perBatch)
            for n in 0..<perBatch {
                let ordinal = Int64(b * perBatch + n)
                var line = generator.lineBytes()
                if ordinal % 2_000_003 == 17 { line += Array(" zebracorn-\(ordinal)".utf8) }
                let time = start + ordinal * step
                let parsed = parser.parse(line, observedNanos: time)
                var fields = parsed.fields
                // As the collector does: an audit event's records linked into its process, network or file view.
                if parsed.format == .audit { linker.link(&fields, line: line, source: "/var/log/audit/audit.log") }
                events.append(
                    Event(
                        timeNanos: time,
                        observedNanos: time,
                        host: String(format: "cc-ws-%03d", host),
                        source: "/var/log/auth.log",
                        line: line,
                        fields: fields
                    )
                )
            }
            let header = BatchHeader(
                keyID: KeyID.of(keys[host].publicKey),
                epoch: 1,
                sequence: UInt64(b / hosts + 1),
                previousHash: previous[host],
                createdNanos: events[0].timeNanos,
                events: events
            )
            let batch = try SignedBatch.build(
                events: events,
                header: header,
                signingKey: keys[host],
                compressionLevel: 1
            )
            previous[host] = batch.hash
            pending.append(
                try IngestItem(
                    agentID: agentIDs[host],
                    batch: batch,
                    events: events,
                    receivedNanos: events[0].timeNanos
                )
            )
            if pending.count == 64 || b == batches - 1 {
                _ = try await store.ingest(pending)
                pending.removeAll()
            }
            if b % 500 == 499 {
                print(
                    String(
                        format: "  built %d events, %.0f events/s",
                        (b + 1) * perBatch,
                        Double((b + 1) * perBatch) / (now() - began)
                    )
                )
            }
        }
        print(String(format: "investigate: generated %d events in %.0f s", batches * perBatch, now() - began))
    }
    // No server ran, so no indexer ran alongside (and a database of an older schema migrates here): build the
    // full-text index now. A no-op when it is complete.
    let indexing = now()
    try await Storage.open(path: path).drainFullTextIndex()
    print(String(format: "investigate: full-text index ready in %.0f s", now() - indexing))
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    print("investigate: database \(path), \(size / 1_048_576) MiB")

    func time(_ label: String, _ arguments: [String], runs: Int = 3) throws {
        let output = "/tmp/flightlog-bench-out"
        var best = Double.infinity
        var lines = 0
        for _ in 0..<runs {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binDir + "/flightlog")
            process.arguments = arguments
            guard FileManager.default.createFile(atPath: output, contents: nil) else {
                throw BenchError("cannot create \(output)")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            process.standardOutput = handle
            process.standardError = FileHandle.nullDevice
            let t0 = now()
            try process.run()
            process.waitUntilExit()
            best = min(best, now() - t0)
            try handle.close()
            let data = (try? Data(contentsOf: URL(fileURLWithPath: output))) ?? Data()
            lines = data.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        }
        print(String(format: "  %-58@ %8.1f ms  (%d lines out)", label as NSString, best * 1000, lines))
    }
    func iso(_ nanos: Int64) -> String { Timestamp.rfc3339(nanos) }
    let hourStart = start + 3 * day + 10 * 3_600_000_000_000
    try time(
        "host + one-hour window, first page (50)",
        [
            "query", "--db", path, "--host", "cc-ws-007", "--since", iso(hourStart), "--until",
            iso(hourStart + 3_600_000_000_000), "--limit", "50", "--format", "jsonl",
        ]
    )
    try time("rare-token full-text query", ["query", "--db", path, "--match", "zebracorn*", "--format", "jsonl"])
    try time(
        "count over a day",
        ["query", "--db", path, "--since", iso(start + 2 * day), "--until", iso(start + 3 * day), "--count"]
    )
    try time(
        "user + day window, count",
        [
            "query", "--db", path, "--user", "mchen", "--since", iso(start + 2 * day), "--until", iso(start + 3 * day),
            "--count",
        ]
    )
    // JSONL export throughput over ~1 M events.
    let exportSpan = 7 * day / 10
    let t0 = now()
    try time(
        "JSONL of ~1/10 of the database",
        [
            "query", "--db", path, "--since", iso(start), "--until", iso(start + exportSpan), "--format", "jsonl",
            "--order", "asc",
        ],
        runs: 1
    )
    _ = t0
    let rules = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("aggregator/rules").path
    for rule in (try? FileManager.default.contentsOfDirectory(atPath: rules))?.sorted() ?? []
    where rule.hasSuffix(".yml") {
        let single = NSTemporaryDirectory() + "flightlog-rule-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: single, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: rules + "/" + rule, toPath: single + "/" + rule)
        try time("hunt " + rule, ["hunt", "--db", path, "--rules", single, "--format", "jsonl"], runs: 1)
        try? FileManager.default.removeItem(atPath: single)
    }
    // FLIGHTLOG_BENCH_SIGMA=DIR: SigmaHQ's rules/linux and rules/web trees of a checkout, each in one hunt.
    if let sigma = ProcessInfo.processInfo.environment["FLIGHTLOG_BENCH_SIGMA"] {
        for tree in ["linux", "web"] {
            try time(
                "hunt SigmaHQ rules/" + tree,
                ["hunt", "--db", path, "--rules", sigma + "/rules/" + tree],
                runs: 1
            )
        }
    }
}

switch mode {
case "ingest":
    let events = arguments.count > 2 ? Int(arguments[2]) ?? 400_000 : 400_000
    let connections = arguments.count > 3 ? Int(arguments[3]) ?? 8 : 8
    try await ingest(totalEvents: events, connections: connections, keptPath: arguments.count > 4 ? arguments[4] : nil)
case "storm":
    try await storm(connections: arguments.count > 2 ? Int(arguments[2]) ?? 2000 : 2000)
case "agent":
    let lines = arguments.count > 2 ? Int(arguments[2]) ?? 1_000_000 : 1_000_000
    try await agentCatchUp(lines: lines)
case "journal":
    try await journalRead(entries: arguments.count > 2 ? Int(arguments[2]) ?? 200_000 : 200_000)
case "parse":
    try parserThroughput(lines: arguments.count > 2 ? Int(arguments[2]) ?? 30_000 : 30_000)
case "parse-dump":
    try parseDump(files: Array(arguments.dropFirst(2)))
case "nodes":
    guard arguments.count > 5 else {
        throw BenchError("usage: flightlog-bench nodes URL EVENTS CONNECTIONS PORT[,PORT…]")
    }
    try await nodesIngest(
        url: arguments[2],
        totalEvents: Int(arguments[3]) ?? 400_000,
        connections: Int(arguments[4]) ?? 8,
        ports: arguments[5].split(separator: ",").compactMap { Int($0) }
    )
case "investigate":
    let events = arguments.count > 2 ? Int(arguments[2]) ?? 10_000_000 : 10_000_000
    let path = arguments.count > 3 ? arguments[3] : NSTemporaryDirectory() + "flightlog-bench-10m.db"
    try await investigate(total: events, path: path)
default:
    print(
        "usage: flightlog-bench ingest [EVENTS] [CONNECTIONS] [DBPATH] | storm [CONNECTIONS] | agent [LINES] | journal [ENTRIES] | parse [LINES] | investigate [EVENTS] [DBPATH]"
    )
}
