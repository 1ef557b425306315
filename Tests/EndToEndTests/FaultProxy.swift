import FlightlogSystem
import Foundation
import Glibc

/// A TCP proxy on 127.0.0.1 that injects network faults between an agent and the aggregator (issue 21): delay, a
/// bandwidth cap, resets, a black hole, a frame cut in half, and only the aggregator→agent direction dropped.
///
/// Blocking sockets and two threads per connection, one per direction: simple enough to trust as a test tool, and
/// the faults apply to bytes as they pass, whatever the protocol above them.
final class FaultProxy: @unchecked Sendable {
    enum Mode: Equatable, Sendable {
        /// Bytes pass, each chunk after `delayMilliseconds`, at most `bytesPerSecond` when set.
        case pass(delayMilliseconds: Int = 0, bytesPerSecond: Int? = nil)
        /// Agent→aggregator passes; aggregator→agent bytes (ACKs, heartbeats) are swallowed.
        case dropToAgent
        /// Nothing passes either way; connections stay open.
        case blackHole
        /// The next agent→aggregator chunk passes only its first half; then both sides are reset. Back to `pass`.
        case cutNextChunk
    }

    /// One proxied connection. Its descriptors are closed by the last of its two pumps to stop, never while a pump
    /// may still be in `recv` on them (a closed number can come back as the next accepted connection's).
    private final class Connection: @unchecked Sendable {
        let client: Int32
        let upstream: Int32
        private let lock = NSLock()
        private var running = 2
        private var ending = false

        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }

        var isEnding: Bool { self.lock.withLock { self.ending } }

        /// Ends the connection: both sockets are shut down (their pumps wake) and reset when the pumps are out.
        func end() {
            let first = self.lock.withLock {
                defer { self.ending = true }
                return !self.ending
            }
            guard first else { return }
            shutdown(self.client, Int32(SHUT_RDWR))
            shutdown(self.upstream, Int32(SHUT_RDWR))
        }

        /// A pump stopped; the last one closes both descriptors with a reset.
        func pumpStopped() {
            let last = self.lock.withLock {
                self.running -= 1
                return self.running == 0
            }
            guard last else { return }
            LoopbackTCP.resetAndClose(self.client)
            LoopbackTCP.resetAndClose(self.upstream)
        }
    }

    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var mode: Mode = .pass()
    private var connections: [Connection] = []
    private var stopped = false
    private var counts = (accepted: 0, resets: 0, cut: 0, swallowed: 0)

    init(upstreamPort: Int) throws {
        guard let (fd, port) = LoopbackTCP.bind(listenBacklog: 64) else { throw HarnessError("proxy: bind failed") }
        self.listener = fd
        self.port = port
        self.upstreamPort = upstreamPort
        Thread { [self] in self.acceptLoop() }.start()
    }

    /// Sets how bytes are treated from now on.
    func set(_ mode: Mode) {
        self.lock.withLock { self.mode = mode }
    }

    /// Resets every open connection (both sides), as a middlebox dropping its state would.
    func resetAll() {
        let open = self.lock.withLock {
            defer { self.connections.removeAll() }
            self.counts.resets += self.connections.count
            return self.connections
        }
        for connection in open { connection.end() }
    }

    /// Connections accepted, reset, cut; aggregator→agent bytes swallowed.
    var statistics: (accepted: Int, resets: Int, cut: Int, swallowed: Int) { self.lock.withLock { self.counts } }

    func stop() {
        self.lock.withLock { self.stopped = true }
        shutdown(self.listener, Int32(SHUT_RDWR))
        self.resetAll()
    }

    private func acceptLoop() {
        defer { close(self.listener) }
        while true {
            let client = accept(self.listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return
            }
            guard let upstream = LoopbackTCP.connect(port: self.upstreamPort) else {
                LoopbackTCP.resetAndClose(client)
                continue
            }
            let connection = Connection(client: client, upstream: upstream)
            let keep = self.lock.withLock {
                guard !self.stopped else { return false }
                self.connections.append(connection)
                self.counts.accepted += 1
                return true
            }
            guard keep else {
                LoopbackTCP.resetAndClose(client)
                LoopbackTCP.resetAndClose(upstream)
                return
            }
            for fd in [client, upstream] { LoopbackTCP.setReceiveTimeout(fd, milliseconds: 100) }
            Thread { [self] in self.pump(connection, from: client, to: upstream, toAgent: false) }.start()
            Thread { [self] in self.pump(connection, from: upstream, to: client, toAgent: true) }.start()
        }
    }

    private func end(_ connection: Connection) {
        self.lock.withLock { self.connections.removeAll { $0 === connection } }
        connection.end()
    }

    private func pump(_ connection: Connection, from source: Int32, to destination: Int32, toAgent: Bool) {
        defer { connection.pumpStopped() }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while !connection.isEnding {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { continue }
            guard count > 0 else {
                self.end(connection)
                return
            }
            var chunk = Array(buffer[0..<count])
            let mode = self.lock.withLock { self.mode }
            switch mode {
            case .blackHole:
                continue
            case .dropToAgent where toAgent:
                self.lock.withLock { self.counts.swallowed += count }
                continue
            case .cutNextChunk where !toAgent:
                chunk = Array(chunk.prefix(max(1, count / 2)))
                _ = chunk.withUnsafeBytes { send(destination, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                self.lock.withLock {
                    self.mode = .pass()
                    self.counts.cut += 1
                }
                self.end(connection)
                return
            case .pass(let delay, let rate):
                if delay > 0 { usleep(UInt32(delay) * 1000) }
                if let rate, rate > 0 { usleep(UInt32(min(10_000_000, count * 1_000_000 / rate))) }
            case .dropToAgent, .cutNextChunk:
                break
            }
            var sent = 0
            while sent < chunk.count {
                let result = chunk.withUnsafeBytes {
                    send(destination, $0.baseAddress.map { $0 + sent }, chunk.count - sent, Int32(MSG_NOSIGNAL))
                }
                guard result > 0 else {
                    self.end(connection)
                    return
                }
                sent += result
            }
        }
    }
}
