import FlightlogSystem
import Glibc

/// Thin, non-throwing wrappers over the POSIX calls the tailer uses.
enum PosixFile {
    /// What `stat`/`fstat` says about a regular file.
    struct Status {
        var identity: FileIdentity
        var size: UInt64
        var linkCount: UInt64
        /// Last modification, ns since the epoch.
        var modifiedNanos: Int64
    }

    /// Every regular file matching any of `patterns`, sorted by path, each path once.
    static func glob(_ patterns: [String]) -> [String] {
        var paths = Set<String>()
        for pattern in patterns {
            var result = glob_t()
            defer { globfree(&result) }
            guard Glibc.glob(pattern, 0, nil, &result) == 0 else { continue }
            for index in 0..<Int(result.gl_pathc) {
                if let cString = result.gl_pathv[index] {
                    paths.insert(String(cString: cString))
                }
            }
        }
        return paths.sorted()
    }

    /// `stat(2)` following symlinks; nil unless it names a regular file.
    static func status(path: String) -> Status? {
        FileStatus.of(path: path).flatMap(Self.status)
    }

    /// `fstat(2)`; nil on failure or if the descriptor is not a regular file.
    static func status(fd: Int32) -> Status? {
        FileStatus.of(descriptor: fd).flatMap(Self.status)
    }

    private static func status(_ info: FileStatus) -> Status? {
        guard info.isRegularFile else { return nil }
        return Status(
            identity: FileIdentity(device: info.device, inode: info.inode),
            size: info.size,
            linkCount: info.linkCount,
            modifiedNanos: info.modifiedNanos
        )
    }

    /// Opens `path` read-only; the descriptor or the `errno` text.
    static func openForReading(_ path: String) -> Result<Int32, PosixError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        if fd < 0 { return .failure(PosixError.current()) }
        return .success(fd)
    }

    /// `pread(2)` into `buffer`, retrying on `EINTR`: bytes read (0 at end of file) or the error.
    static func read(
        _ fd: Int32,
        into buffer: UnsafeMutableRawBufferPointer,
        at offset: UInt64
    ) -> Result<Int, PosixError> {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .success(0) }
        while true {
            let count = pread(fd, base, buffer.count, off_t(clamping: offset))
            if count >= 0 { return .success(count) }
            if errno == EINTR { continue }
            return .failure(PosixError.current())
        }
    }

    /// Up to `count` bytes starting at `offset` (fewer at end of file); empty on error.
    static func readBytes(_ fd: Int32, count: Int, at offset: UInt64) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let result = bytes.withUnsafeMutableBytes { raw in
                self.read(
                    fd,
                    into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]),
                    at: offset + UInt64(filled)
                )
            }
            guard case .success(let n) = result, n > 0 else { break }
            filled += n
        }
        bytes.removeLast(count - filled)
        return bytes
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}

/// An `errno` captured with its text.
struct PosixError: Error, Equatable {
    var code: Int32
    var message: String

    static func current() -> PosixError {
        let code = errno
        return PosixError(code: code, message: String(cString: strerror(code)))
    }
}
