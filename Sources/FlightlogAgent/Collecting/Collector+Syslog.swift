import FlightlogSystem
import FlightlogWire

// MARK: - Syslog input

extension Collector {
    /// Moves received syslog messages into the pending batch, as many as it has room for, and turns the datagrams
    /// dropped since the last call into a `syslog_dropped` event. Returns whether any message was taken.
    ///
    /// Not called while the spool is full: the queue then fills, datagrams are dropped (and counted) and TCP
    /// senders are held back, exactly as when the collector falls behind.
    func drainSyslog() -> Bool {
        guard let queue = self.syslog else { return false }
        for source in queue.takeNewSources() {
            self.lifecycle(
                "syslog_listening",
                "flightlog-agent listening for syslog on \(source)",
                [Event.Field("input", source)]
            )
        }
        let roomEvents = self.configuration.batchMaxEvents - self.pending.eventCount
        let roomBytes = self.configuration.batchMaxBytes - self.pendingBytes
        // The same margin as the tailer's poll: a message costs its bytes plus the event's framing and fields.
        guard roomEvents > 0, roomBytes > 256 else { return false }
        let (messages, dropped) = queue.drain(maxMessages: roomEvents, maxBytes: roomBytes / 2)
        if dropped > 0 {
            self.lifecycle(
                "syslog_dropped",
                "flightlog-agent dropped \(dropped) syslog datagrams: its queue was full",
                [Event.Field("dropped", String(dropped))]
            )
        }
        for message in messages { self.append(self.event(of: message)) }
        return !messages.isEmpty
    }

    /// At stop, after the receivers have closed: commits what is still queued, batch after batch, while the spool
    /// has room.
    func drainSyslogAtStop() async throws {
        guard let queue = self.syslog else { return }
        while queue.count > 0, await !self.journal.isFull {
            _ = try await self.step(draining: true)
        }
    }

    /// The event of one received message: parsed like a line of a file, plus the sender's credentials when the
    /// kernel gave them. Parsed fields with a trusted name are dropped first, so that only the kernel fills them.
    func event(of message: SyslogMessage) -> Event {
        let parsed = self.parser.parse(message.bytes, observedNanos: message.observedNanos)
        var fields = parsed.fields.filter { !SyslogMessage.trustedKeys.contains($0.key) }
        var extra: [Event.Field] = []
        if let credentials = message.credentials {
            extra.append(Event.Field("peer_pid", String(credentials.pid)))
            extra.append(Event.Field("peer_uid", String(credentials.uid)))
            extra.append(Event.Field("peer_gid", String(credentials.gid)))
        }
        if message.truncated { extra.append(Event.Field("truncated", "true")) }
        if fields.count + extra.count > WireLimits.maxFieldsPerEvent {
            fields.removeLast(fields.count + extra.count - WireLimits.maxFieldsPerEvent)
        }
        return parsed.event(
            line: message.bytes,
            observedNanos: message.observedNanos,
            host: self.configuration.hostname,
            source: message.source,
            fields: fields + extra
        )
    }
}
