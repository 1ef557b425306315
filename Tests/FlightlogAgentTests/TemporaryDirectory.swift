import FlightlogSystem
import Foundation
import Glibc

/// A fresh directory per test, removed when the test ends; plus the file operations the tailer tests need.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/flightlog-tail-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> UnsafeMutablePointer<CChar>? in
            guard let base = buffer.baseAddress else { return nil }
            return mkdtemp(base)
        }
        guard let created else { throw POSIXError(.EIO) }
        self.path = String(cString: created)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }

    func file(_ name: String) -> String {
        self.path + "/" + name
    }

    /// Appends `bytes` with O_APPEND, as a logging daemon would.
    func append(_ name: String, _ bytes: [UInt8]) throws {
        let fd = open(self.file(name), O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        try Self.writeAll(fd, bytes)
    }

    func append(_ name: String, _ text: String) throws {
        try self.append(name, Array(text.utf8))
    }

    /// Appends one line per element.
    func append(_ name: String, lines: [String]) throws {
        try self.append(name, lines.map { $0 + "\n" }.joined())
    }

    /// Replaces the file's content in place (same inode), like `> file` in a shell.
    func overwrite(_ name: String, _ text: String) throws {
        let fd = open(self.file(name), O_WRONLY | O_TRUNC | O_CREAT, 0o644)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        try Self.writeAll(fd, Array(text.utf8))
    }

    func truncate(_ name: String, to size: Int = 0) throws {
        guard Glibc.truncate(self.file(name), off_t(size)) == 0 else { throw POSIXError(.EIO) }
    }

    func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(self.file(from), self.file(to)) == 0 else { throw POSIXError(.EIO) }
    }

    func remove(_ name: String) throws {
        guard unlink(self.file(name)) == 0 else { throw POSIXError(.EIO) }
    }

    func copy(_ from: String, _ to: String) throws {
        try FileManager.default.copyItem(atPath: self.file(from), toPath: self.file(to))
    }

    func inode(_ name: String) -> UInt64? {
        FileStatus.of(path: self.file(name))?.inode
    }

    /// An open write descriptor, for writing to a file after it was renamed.
    func openForAppend(_ name: String) throws -> Int32 {
        let fd = open(self.file(name), O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else { throw POSIXError(.EIO) }
            written += n
        }
    }
}
