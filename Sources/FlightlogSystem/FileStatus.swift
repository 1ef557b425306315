import Glibc

/// What `stat(2)` says about a file, in Swift types.
public struct FileStatus: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    /// Bytes; never negative.
    public var size: UInt64
    public var linkCount: UInt64
    /// Last modification, nanoseconds since the Unix epoch.
    public var modifiedNanos: Int64
    public var isRegularFile: Bool
    /// The permission bits, `0o7777` of `st_mode`.
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32

    /// `stat(2)`, following symbolic links; nil when it fails.
    public static func of(path: String) -> FileStatus? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileStatus(info)
    }

    /// `lstat(2)`: a symbolic link itself, not what it points to; nil when it fails.
    public static func ofLink(path: String) -> FileStatus? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return FileStatus(info)
    }

    /// `fstat(2)`; nil when it fails.
    public static func of(descriptor: Int32) -> FileStatus? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return FileStatus(info)
    }

    private init(_ info: stat) {
        self.device = UInt64(info.st_dev)
        self.inode = UInt64(info.st_ino)
        self.size = UInt64(max(0, info.st_size))
        self.linkCount = UInt64(info.st_nlink)
        self.modifiedNanos = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
        self.isRegularFile = (info.st_mode & S_IFMT) == S_IFREG
        self.permissions = UInt32(info.st_mode) & 0o7777
        self.uid = UInt32(info.st_uid)
        self.gid = UInt32(info.st_gid)
    }
}
