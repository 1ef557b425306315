import FlightlogSystem
import Foundation
import Glibc

/// File operations as a logging daemon or an operator performs them, for the tests of what reads log files.
extension TempDirectory {
    /// Appends `bytes` with O_APPEND, as a logging daemon would.
    public func append(_ name: String, _ bytes: [UInt8]) throws {
        let fd = open(self.file(name), O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        try Self.writeAll(fd, bytes)
    }

    public func append(_ name: String, _ text: String) throws {
        try self.append(name, Array(text.utf8))
    }

    /// Appends one line per element.
    public func append(_ name: String, lines: [String]) throws {
        try self.append(name, lines.map { $0 + "\n" }.joined())
    }

    /// Replaces the file's content in place (same inode), like `> file` in a shell.
    public func overwrite(_ name: String, _ text: String) throws {
        let fd = open(self.file(name), O_WRONLY | O_TRUNC | O_CREAT, 0o644)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        try Self.writeAll(fd, Array(text.utf8))
    }

    public func truncate(_ name: String, to size: Int = 0) throws {
        guard Glibc.truncate(self.file(name), off_t(size)) == 0 else { throw POSIXError(.EIO) }
    }

    public func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(self.file(from), self.file(to)) == 0 else { throw POSIXError(.EIO) }
    }

    public func remove(_ name: String) throws {
        guard unlink(self.file(name)) == 0 else { throw POSIXError(.EIO) }
    }

    public func copy(_ from: String, _ to: String) throws {
        try FileManager.default.copyItem(atPath: self.file(from), toPath: self.file(to))
    }

    public func inode(_ name: String) -> UInt64? {
        FileStatus.of(path: self.file(name))?.inode
    }

    /// An open write descriptor, for writing to a file after it was renamed.
    public func openForAppend(_ name: String) throws -> Int32 {
        let fd = open(self.file(name), O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        return fd
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else { throw POSIXError(.EIO) }
            written += n
        }
    }
}
