public import FlightlogTLS

/// Everything `flightlog serve` can be told.
public struct AggregatorConfiguration: Sendable {
    /// The certificate and key agents are served TLS 1.3 with; nil serves plaintext (`--insecure-plaintext`).
    public var tls: ServerCredentials?
    /// Address to listen on.
    public var host: String
    /// TCP port; 0 picks a free one (tests).
    public var port: Int
    /// Batches an agent may have unacknowledged (PROTOCOL.md §7).
    public var window: UInt16
    /// Seconds of silence after which either side sends a heartbeat; 3× this closes the connection.
    public var heartbeatIntervalSeconds: UInt16
    /// Seconds from accept to a complete handshake.
    public var handshakeTimeoutSeconds: Int64
    /// Connections served at once; more are refused with `serverBusy`.
    public var maxConnections: Int
    /// Batches merged into one transaction at most.
    public var maxBatchesPerCommit: Int
    /// Events merged into one transaction at most (a batch larger than this still commits, alone).
    public var maxEventsPerCommit: Int
    /// Memory of batches decoded or about to be decoded and waiting for the database, across connections; past it,
    /// connections wait before decoding and stop reading. A batch counts its estimate (envelope + 8 × uncompressed
    /// payload) while it is decoded, then what it really holds (``IngestItem/retainedBytes``).
    public var maxPendingBytes: Int
    /// Where the running counters are written (JSON), every `statusIntervalSeconds`.
    public var statusPath: String?
    /// Seconds between status file writes.
    public var statusIntervalSeconds: Int64

    public init(
        host: String = "127.0.0.1",
        port: Int = 7514,
        window: UInt16 = 64,
        heartbeatIntervalSeconds: UInt16 = 15,
        handshakeTimeoutSeconds: Int64 = 10,
        maxConnections: Int = 4096,
        maxBatchesPerCommit: Int = 1024,
        maxEventsPerCommit: Int = 65_536,
        maxPendingBytes: Int = 32 * 1024 * 1024,
        statusPath: String? = nil,
        statusIntervalSeconds: Int64 = 2,
        tls: ServerCredentials? = nil
    ) {
        self.tls = tls
        self.host = host
        self.port = port
        self.window = window
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.handshakeTimeoutSeconds = handshakeTimeoutSeconds
        self.maxConnections = maxConnections
        self.maxBatchesPerCommit = maxBatchesPerCommit
        self.maxEventsPerCommit = maxEventsPerCommit
        self.maxPendingBytes = maxPendingBytes
        self.statusPath = statusPath
        self.statusIntervalSeconds = statusIntervalSeconds
    }
}
