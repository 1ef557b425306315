/// How far one file has been handed out: what the agent checkpoints per file together with a batch.
public struct FileCursor: Codable, Sendable, Equatable {
    /// The path the file was last seen under (it changes when a rotation renames the file within the globs).
    public var path: String
    /// Device and inode of the file.
    public var identity: FileIdentity
    /// Lower-case hex SHA-256 of the first ``fingerprintLength`` bytes of the file.
    public var fingerprint: String
    /// How many leading bytes ``fingerprint`` covers (at most ``Tailer/fingerprintMaxLength``).
    public var fingerprintLength: Int
    /// Byte offset just after the last line handed out.
    public var offset: UInt64
    /// The bytes before ``offset`` ended inside an over-long line that was split; the next part is a continuation.
    public var inSplitLine: Bool
    /// A file (rotated away from this one's path) whose remaining lines come before this file's lines.
    public var readAfter: FileIdentity?

    /// Creates a cursor.
    public init(
        path: String,
        identity: FileIdentity,
        fingerprint: String,
        fingerprintLength: Int,
        offset: UInt64,
        inSplitLine: Bool = false,
        readAfter: FileIdentity? = nil
    ) {
        self.path = path
        self.identity = identity
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
        self.offset = offset
        self.inSplitLine = inSplitLine
        self.readAfter = readAfter
    }

    /// Decodes a cursor; checkpoints written before `inSplitLine` and `readAfter` existed still decode.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.path = try container.decode(String.self, forKey: .path)
        self.identity = try container.decode(FileIdentity.self, forKey: .identity)
        self.fingerprint = try container.decode(String.self, forKey: .fingerprint)
        self.fingerprintLength = try container.decode(Int.self, forKey: .fingerprintLength)
        self.offset = try container.decode(UInt64.self, forKey: .offset)
        self.inSplitLine = try container.decodeIfPresent(Bool.self, forKey: .inSplitLine) ?? false
        self.readAfter = try container.decodeIfPresent(FileIdentity.self, forKey: .readAfter)
    }
}
