/// Which file a descriptor refers to, independent of its name: the device and inode numbers from `fstat`.
///
/// The pair alone is not enough after a file is deleted, because the file system may hand the inode to a
/// new file; ``FileCursor`` adds a fingerprint of the first bytes for that reason.
public struct FileIdentity: Hashable, Codable, Sendable {
    /// `st_dev` of the file.
    public var device: UInt64
    /// `st_ino` of the file.
    public var inode: UInt64

    /// Creates an identity from its two numbers.
    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}
