import Crypto
import FlightlogWire
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes bytes to a file descriptor in 64 KiB chunks (one `write(2)` per chunk, not per row), optionally hashing
/// everything written (for export manifests).
///
/// A reader that goes away (`EPIPE`, as with `| head`) is not an error: ``isBroken`` turns true and later writes
/// are dropped, so the command can stop streaming and still record its audit entry.
public final class BufferedWriter {
    /// Bytes gathered before a `write(2)`.
    public static let chunkSize = 65_536

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private var hasher: SHA256?
    /// Bytes accepted so far.
    public private(set) var byteCount = 0
    /// The reader went away; nothing more will be written.
    public private(set) var isBroken = false
    /// The first error other than a broken pipe.
    public private(set) var failure: String?

    /// Standard output.
    public static func standardOutput() -> BufferedWriter { BufferedWriter(descriptor: 1, owns: false, hashing: false) }

    private init(descriptor: Int32, owns: Bool, hashing: Bool) {
        self.descriptor = descriptor
        self.ownsDescriptor = owns
        self.hasher = hashing ? SHA256() : nil
        self.buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    /// Creates a new file (failing if it exists: evidence is never overwritten), hashing what is written.
    public convenience init(creatingFile path: String) throws(StoreError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        self.init(descriptor: fd, owns: true, hashing: true)
    }

    deinit {
        if self.ownsDescriptor { close(self.descriptor) }
    }

    public func write(_ bytes: some Sequence<UInt8>) {
        guard !self.isBroken, self.failure == nil else { return }
        let before = self.buffer.count
        self.buffer.append(contentsOf: bytes)
        self.byteCount += self.buffer.count - before
        if self.buffer.count >= Self.chunkSize { self.flush() }
    }

    /// The non-generic form: callers in other modules would otherwise go through the unspecialised generic, which
    /// appends byte by byte.
    public func write(_ bytes: [UInt8]) {
        guard !self.isBroken, self.failure == nil else { return }
        self.buffer += bytes
        self.byteCount += bytes.count
        if self.buffer.count >= Self.chunkSize { self.flush() }
    }

    public func write(_ text: String) { self.write(text.utf8) }

    /// Writes out what is buffered.
    public func flush() {
        guard !self.buffer.isEmpty else { return }
        defer { self.buffer.removeAll(keepingCapacity: true) }
        guard !self.isBroken, self.failure == nil else { return }
        self.hasher?.update(data: self.buffer)
        var offset = 0
        while offset < self.buffer.count {
            let written = self.buffer.withUnsafeBytes { raw in
                #if canImport(Glibc)
                Glibc.write(self.descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                #else
                Darwin.write(self.descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                #endif
            }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE {
                    self.isBroken = true
                } else {
                    self.failure = String(cString: strerror(errno))
                }
                return
            }
            offset += written
        }
    }

    /// Flushes, syncs a file to disk, and returns the SHA-256 (hex) of everything written when hashing.
    public func finish() throws(StoreError) -> String? {
        self.flush()
        if let failure { throw StoreError.database("write failed: \(failure)") }
        if self.ownsDescriptor, fsync(self.descriptor) != 0 {
            throw StoreError.database("fsync failed: \(String(cString: strerror(errno)))")
        }
        return self.hasher.map { Array($0.finalize()).hexString }
    }
}
