public import Crypto
import FlightlogSystem
import FlightlogWire
import Foundation
public import Logging
public import ServiceLifecycle

/// Tails, parses and batches: turns lines into signed, chained batches committed to the journal.
///
/// Each batch holds every line polled since the previous one, so the tailer offsets saved with it are exactly the
/// end of its lines; polls are sized to fit what the batch still has room for. A batch is cut when it is full or
/// when its oldest line has waited ``AgentConfiguration/flushIntervalMilliseconds``. While the spool is at its cap
/// nothing is read: the lines wait in their files, and the pause is counted and shipped as an event.
public actor Collector: Service {
    /// The source name of the agent's own lifecycle events.
    public static let lifecycleSource = "flightlog-agent"

    let configuration: AgentConfiguration
    let journal: Journal
    let counters: AgentCounters
    let logger: Logger
    private let signingKey: Curve25519.Signing.PrivateKey
    private let keyID: Bytes32
    let parser: LineParser
    private let tailer: Tailer
    /// The systemd journal, when configured.
    private let journalSource: JournalSource?
    /// Received syslog messages (``SyslogReceiver``), drained in each step (Collector+Syslog.swift).
    let syslog: SyslogQueue?
    /// The audit records of one event, linked into process-creation, network and file views.
    private var auditLinker = AuditEventLinker()

    /// The next batch's payload, encoded as its lines are read.
    private(set) var pending = PayloadBuilder()
    var pendingBytes: Int { self.pending.bytes.count }
    /// Deadlines and pauses are measured on the monotonic clock: a wall clock stepped back by hours (NTP, an operator,
    /// an attacker) must not hold a batch, or a retry, back by as long. Events keep wall-clock times.
    private var oldestPending: ContinuousClock.Instant?
    private var spoolFullSince: ContinuousClock.Instant?
    /// Since when committing a batch fails (a full or failing disk under the state directory), the next attempt, and
    /// the last error: reading is paused meanwhile, and the pause is shipped as an event once a commit succeeds.
    private var commitFailingSince: ContinuousClock.Instant?
    private var nextCommitAttempt: ContinuousClock.Instant?
    private var lastCommitError = ""
    /// Wall-clock time for events and batch headers; ``WallClock/nowNanos()`` unless a test steps it.
    private let wallClock: @Sendable () -> Int64

    public init(
        configuration: AgentConfiguration,
        journal: Journal,
        signingKey: Curve25519.Signing.PrivateKey,
        counters: AgentCounters,
        logger: Logger,
        syslog: SyslogQueue? = nil,
        wallClock: (@Sendable () -> Int64)? = nil
    ) async throws(AgentError) {
        self.configuration = configuration
        self.wallClock = wallClock ?? { WallClock.nowNanos() }
        self.syslog = syslog
        self.journal = journal
        self.counters = counters
        self.logger = logger
        self.signingKey = signingKey
        self.keyID = KeyID.of(signingKey.publicKey)
        let zone = configuration.timeZone.flatMap(TimeZone.init(identifier:)) ?? .current
        self.parser = LineParser(timeZone: zone)
        let saved = await journal.nextBatch.tailer
        self.tailer = Tailer(
            options: TailerOptions(globs: configuration.watch, startAtEnd: configuration.startAtEnd),
            state: saved.files.isEmpty ? nil : saved
        )
        if let options = configuration.journal {
            self.journalSource = try JournalSource(
                directory: options.directory,
                matches: options.matches,
                startAtEnd: configuration.startAtEnd,
                saved: await journal.journalPosition
            )
        } else {
            self.journalSource = nil
        }
    }

    public func run() async throws {
        let position = await self.journal.nextBatch
        self.lifecycle(
            "start",
            "flightlog-agent started pid=\(ProcessInfo.processInfo.processIdentifier) epoch=\(position.epoch) next_sequence=\(position.sequence)"
        )
        // The start is evidence on its own: commit it now, before anything can kill the process.
        if await !self.journal.isFull { _ = try await self.step(draining: true) }
        let interval = Duration.milliseconds(100)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let progressed = try await self.step()
            if !progressed {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            }
        }
        // Stopping: read what is there, say so, and commit it so the shipper can still send it.
        if await !self.journal.isFull { _ = try await self.step(draining: true) }
        try await self.drainSyslogAtStop()
        self.lifecycle("stop", "flightlog-agent stopping pid=\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try await self.cut()
        } catch let error as AgentError {
            guard case .io = error else { throw error }
            // Nothing is lost: the offsets were not committed either, and the lines are read again at the next start.
            self.logger.error(
                "Cannot write the final batch; its lines will be read again at the next start",
                metadata: ["error": "\(error)"]
            )
        }
    }

    /// The `reading_paused` gauge (heartbeats, metrics): 1 while the spool is full or cannot be written.
    private func notePaused() {
        self.counters.set("reading_paused", self.spoolFullSince != nil || self.commitFailingSince != nil ? 1 : 0)
    }

    /// One round: poll, maybe cut. Returns whether anything was read or cut.
    func step(draining: Bool = false) async throws -> Bool {
        let now = self.wallClock()
        let tick = ContinuousClock.now
        // Committing failed: nothing more is read until the next attempt.
        if self.commitFailingSince != nil, let next = self.nextCommitAttempt, tick < next { return false }
        if await self.journal.isFull {
            if self.spoolFullSince == nil {
                self.spoolFullSince = tick
                self.counters.add("spool_full")
                self.notePaused()
                self.logger.warning("Spool full: reading paused until the aggregator acknowledges batches")
            }
            // Lines already read stay in memory until there is room; their offsets are not committed yet.
            return false
        }
        if let since = self.spoolFullSince {
            self.spoolFullSince = nil
            self.notePaused()
            let pausedMs = Self.milliseconds(since.duration(to: tick))
            self.counters.add("spool_full_ms", UInt64(max(0, pausedMs)))
            self.lifecycle("spool_full", "flightlog-agent spool was full; reading paused for \(pausedMs) ms")
        }
        let roomEvents = self.configuration.batchMaxEvents - self.pending.eventCount
        let roomBytes = self.configuration.batchMaxBytes - self.pendingBytes
        var readSomething = false
        if roomEvents > 0 && roomBytes > 256 {
            // A line costs its bytes plus the event framing; keep room for the framing and the fields.
            let (lines, notices) = self.tailer.poll(maxLines: roomEvents, maxBytes: roomBytes / 2, nowNanos: now)
            for notice in notices { self.record(notice) }
            for line in lines { self.add(line) }
            readSomething = !lines.isEmpty
            self.counters.add("lines_read", UInt64(lines.count))
        }
        if let source = self.journalSource {
            readSomething = self.pollJournal(source, nowNanos: now) || readSomething
        }
        if self.drainSyslog() { readSomething = true }
        let full =
            self.pending.eventCount >= self.configuration.batchMaxEvents
            || self.pendingBytes >= self.configuration.batchMaxBytes / 2
        if !self.pending.isEmpty && (full || self.isDue(tick) || draining) {
            return try await self.cutOrPause(tick)
        }
        return readSomething
    }

    /// Cuts a batch; when the spool or the state cannot be written (a full or failing disk), pauses reading instead of
    /// stopping the agent: the lines stay in memory and in their files, their offsets uncommitted, and the shipper
    /// goes on (its acknowledgements free space). Retries every second; a success ships the pause as an event.
    private func cutOrPause(_ now: ContinuousClock.Instant) async throws -> Bool {
        do {
            try await self.cut()
        } catch let error as AgentError {
            guard case .io = error else { throw error }
            if self.commitFailingSince == nil {
                self.commitFailingSince = now
                self.counters.add("spool_write_failures")
                self.notePaused()
                self.logger.error(
                    "Cannot write the spool: reading paused, nothing is lost; retrying every second",
                    metadata: ["error": "\(error)"]
                )
            }
            self.lastCommitError = "\(error)"
            self.nextCommitAttempt = now + .seconds(1)
            return false
        }
        if let since = self.commitFailingSince {
            self.commitFailingSince = nil
            self.notePaused()
            let pausedMs = Self.milliseconds(since.duration(to: now))
            self.counters.add("spool_write_failed_ms", UInt64(pausedMs))
            self.logger.notice(
                "The spool can be written again; reading resumes",
                metadata: ["paused_ms": "\(pausedMs)"]
            )
            self.lifecycle(
                "spool_write_failed",
                "flightlog-agent could not write its spool for \(pausedMs) ms (\(self.lastCommitError)); reading was "
                    + "paused and nothing was lost"
            )
        }
        return true
    }

    private func isDue(_ now: ContinuousClock.Instant) -> Bool {
        guard let oldest = self.oldestPending else { return false }
        return oldest.duration(to: now) >= .milliseconds(self.configuration.flushIntervalMilliseconds)
    }

    /// Whole milliseconds of a non-negative duration.
    private static func milliseconds(_ duration: Duration) -> Int64 {
        max(0, duration.components.seconds &* 1000 &+ duration.components.attoseconds / 1_000_000_000_000_000)
    }

    private func add(_ line: TailedLine) {
        let parsed = self.parser.parse(line.bytes, observedNanos: line.observedNanos)
        var fields = parsed.encodedFields
        if parsed.format == .audit || line.isSplitPart {
            // Linking and the split marker change the list as values (a tenth of the lines at most).
            var list = fields.fields
            if parsed.format == .audit { self.auditLinker.link(&list, line: line.bytes, source: line.source) }
            if line.isSplitPart {
                if list.count >= WireLimits.maxFieldsPerEvent { list.removeLast() }
                list.append(Event.Field("flightlog.split", line.isSplitContinuation ? "continuation" : "first"))
            }
            fields = EncodedFields(list)
        }
        self.append(
            timeNanos: parsed.timeNanos ?? line.observedNanos,
            observedNanos: line.observedNanos,
            flags: parsed.timeNanos == nil ? [] : .timeFromLine,
            source: ParsedLine.wireSource(line.source),
            line: line.bytes,
            fields: fields
        )
    }

    /// Appends an event of this host whose fields are encoded; `source` within its limit.
    func append(
        timeNanos: Int64,
        observedNanos: Int64,
        flags: Event.Flags,
        source: String,
        line: [UInt8],
        fields: EncodedFields
    ) {
        if self.oldestPending == nil { self.oldestPending = ContinuousClock.now }
        do {
            try line.withUnsafeBufferPointer { (bytes) throws(WireError) in
                try self.pending.append(
                    timeNanos: timeNanos,
                    observedNanos: observedNanos,
                    flags: flags,
                    host: self.configuration.hostname,
                    source: source,
                    line: bytes,
                    fields: fields
                )
            }
        } catch {
            self.refused(error)
        }
    }

    func append(_ event: Event) {
        if self.oldestPending == nil { self.oldestPending = ContinuousClock.now }
        do {
            try self.pending.append(event)
        } catch {
            self.refused(error)
        }
    }

    /// An event over a wire limit that parsing does not cut (a host name over 255 bytes, which the configuration
    /// refuses): counted and logged rather than stopping the agent.
    private func refused(_ error: WireError) {
        self.counters.add("events_refused")
        self.logger.error("An event exceeds a wire limit and was not kept", metadata: ["error": "\(error)"])
    }

    /// Adds one of the agent's own lifecycle events.
    func lifecycle(_ action: String, _ text: String, _ extra: [Event.Field] = []) {
        let now = self.wallClock()
        self.append(
            Event(
                timeNanos: now,
                observedNanos: now,
                flags: [],
                host: self.configuration.hostname,
                source: Self.lifecycleSource,
                line: Array(text.utf8),
                fields: [Event.Field("program", "flightlog-agent"), Event.Field("action", action)] + extra
            )
        )
    }

    private func record(_ notice: TailNotice) {
        switch notice {
        case .opened(let path, let offset):
            self.logger.info("Watching file", metadata: ["file.path": "\(path)", "file.offset": "\(offset)"])
            self.lifecycle(
                "file_opened",
                "flightlog-agent opened \(path) at offset \(offset)",
                [Event.Field("path", path)]
            )
        case .rotated(let path):
            self.counters.add("rotations")
            self.lifecycle("rotation", "flightlog-agent saw \(path) rotated", [Event.Field("path", path)])
            // Killed here, the agent has read lines of the rotated file that no committed batch holds yet.
            Failpoint.hit("agent.rotation-seen-before-commit")
        case .truncated(let path, let old, let size):
            self.counters.add("truncations")
            self.lifecycle(
                "truncation",
                "flightlog-agent saw \(path) truncated from \(old) to \(size) bytes",
                [Event.Field("path", path)]
            )
        case .vanished(let path):
            self.counters.add("files_vanished")
            self.lifecycle("file_vanished", "flightlog-agent saw \(path) vanish", [Event.Field("path", path)])
        case .lineSplit(let path, let length):
            self.counters.add("lines_split")
            self.lifecycle(
                "line_split",
                "flightlog-agent split an over-long line of \(path) at \(length) bytes",
                [Event.Field("path", path)]
            )
        case .readError(let path, let message):
            self.counters.add("read_errors")
            self.logger.warning("Cannot read file", metadata: ["file.path": "\(path)", "error": "\(message)"])
            self.lifecycle("read_error", "flightlog-agent cannot read \(path): \(message)", [Event.Field("path", path)])
        }
    }

    /// Builds, signs and commits a batch of everything pending, with the tailer offsets after its last line.
    private func cut() async throws {
        guard !self.pending.isEmpty else { return }
        let position = await self.journal.nextBatch
        let eventCount = self.pending.eventCount
        let batch = try SignedBatch.build(
            payload: self.pending,
            keyID: self.keyID,
            epoch: position.epoch,
            sequence: position.sequence,
            previousHash: position.previous,
            createdNanos: self.wallClock(),
            signingKey: self.signingKey,
            compressionLevel: Int32(self.configuration.compressionLevel)
        )
        try await self.journal.commit(batch, tailer: self.tailer.state, journal: self.journalSource?.position)
        self.pending.removeAll()
        self.oldestPending = nil
        self.counters.add("batches_built")
        self.counters.add("events_built", UInt64(eventCount))
    }
}
