import FlightlogSystem
import Glibc

/// Crash-safe file writes: temp file, fsync, rename, fsync of the directory.
enum DurableFile {
    /// Replaces `path` with `bytes` so that after a crash the file holds either the old or the new content.
    static func write(
        _ bytes: [UInt8],
        to path: String,
        syncDirectory: Bool = true,
        beforeRename: () -> Void = {}
    ) throws(AgentError) {
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AgentError.io(path: temp, reason: Self.errnoText()) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(fd, base + written, raw.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = Self.errnoText()
                close(fd)
                unlink(temp)  // a half-written temporary file would hold space a full disk needs back
                throw AgentError.io(path: temp, reason: reason)
            }
            written += result
        }
        // A test build can make this fsync fail (tmpfs cannot): a failed fsync is never taken for success.
        let synced = fsync(fd) == 0
        let injected = synced && Failpoint.fails("agent.durable-write.fsync")
        guard synced && !injected else {
            let reason = injected ? "EIO injected by a test build" : Self.errnoText()
            close(fd)
            unlink(temp)
            throw AgentError.io(path: temp, reason: "fsync: \(reason)")
        }
        close(fd)
        beforeRename()
        guard rename(temp, path) == 0 else {
            let reason = Self.errnoText()
            unlink(temp)
            throw AgentError.io(path: path, reason: "rename: \(reason)")
        }
        if syncDirectory { try Self.syncDirectory(of: path) }
    }

    /// fsyncs the directory holding `path`, making a rename or unlink in it durable.
    static func syncDirectory(of path: String) throws(AgentError) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw AgentError.io(path: directory, reason: Self.errnoText()) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw AgentError.io(path: directory, reason: "fsync: \(Self.errnoText())") }
    }

    /// The whole content of `path`, or nil when it does not exist. Bounded by `limit` bytes.
    static func read(_ path: String, limit: Int) throws(AgentError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw AgentError.io(path: path, reason: Self.errnoText())
        }
        defer { close(fd) }
        guard let info = FileStatus.of(descriptor: fd) else {
            throw AgentError.io(path: path, reason: Self.errnoText())
        }
        guard info.size <= UInt64(max(limit, 0)) else {
            throw AgentError.io(path: path, reason: "larger than \(limit) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.size))
        var done = 0
        while done < bytes.count {
            let result = bytes.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.read(fd, base + done, raw.count - done)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw AgentError.io(path: path, reason: Self.errnoText())
            }
            if result == 0 { break }
            done += result
        }
        return Array(bytes.prefix(done))
    }

    /// Creates `path` and its parents with mode 0700 when missing.
    static func makeDirectory(_ path: String) throws(AgentError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw AgentError.io(path: current, reason: Self.errnoText())
            }
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
