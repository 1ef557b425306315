import Glibc

/// One `flightlog serve` per database: an exclusive `flock` on `DB.serve.lock`, held for the life of the process.
///
/// Two servers on one database lose no evidence (every check runs in the store's transaction), but they overwrite
/// each other's status file, so `flightlog status` shows one or the other at random, and stopping "the" server
/// leaves the other one running. That happens by mistake (a service plus a server started by hand while
/// troubleshooting), so the second one refuses to start and names the first. The kernel releases the lock when
/// the process ends, however it ends (`kill -9` too): there is no stale lock to clean up.
public final class ServeLock: Sendable {
    /// Why the lock was not taken.
    public enum Failure: Error, CustomStringConvertible {
        /// Another process holds it; `owner` is what it wrote into the file ("pid 8928, listening on …").
        case held(path: String, owner: String?)
        case cannotOpen(path: String, reason: String)

        public var description: String {
            switch self {
            case .held(_, let owner?) where !owner.isEmpty:
                "another `flightlog serve` (\(owner)) is already serving this database: stop it first, or give this "
                    + "one another --db"
            case .held(let path, _):
                "another `flightlog serve` is already serving this database (it holds \(path)): stop it first, or "
                    + "give this one another --db"
            case .cannotOpen(let path, let reason):
                "cannot open the lock file \(path): \(reason)"
            }
        }
    }

    /// The lock file of the database at `databasePath`.
    public static func path(for databasePath: String) -> String { databasePath + ".serve.lock" }

    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Takes the lock of the database at `databasePath`, or says who holds it.
    public static func acquire(databasePath: String) throws(Failure) -> ServeLock {
        let path = Self.path(for: databasePath)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            defer { close(descriptor) }
            guard reason == EWOULDBLOCK else {
                throw .cannotOpen(path: path, reason: String(cString: strerror(reason)))
            }
            throw .held(path: path, owner: Self.contents(descriptor))
        }
        return ServeLock(descriptor: descriptor)
    }

    /// Records who holds the lock, for the message a second server prints.
    public func describe(_ owner: String) {
        let bytes = Array(owner.utf8)
        _ = ftruncate(self.descriptor, 0)
        _ = bytes.withUnsafeBytes { pwrite(self.descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Lets go of the lock (the process's end does the same).
    public func release() {
        _ = ftruncate(self.descriptor, 0)
        close(self.descriptor)
    }

    /// The first bytes of the file: what its holder wrote.
    private static func contents(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self).filter { !$0.isNewline }
    }
}
