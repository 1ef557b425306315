import Glibc

/// Why a socket could not be set up, with the path and what to do.
public enum SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path does not fit `sockaddr_un` (or is empty).
    case pathTooLong(path: String, limit: Int)
    /// Something other than a socket is at the path; it is never removed.
    case notASocket(path: String)
    /// Another process is bound to the socket at the path.
    case inUse(path: String)
    /// A system call failed.
    case call(String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .pathTooLong(let path, let limit):
            "\(path): a Unix socket path must be 1…\(limit) bytes long"
        case .notASocket(let path):
            "\(path) exists and is not a socket; remove it or choose another path"
        case .inUse(let path):
            "\(path) is in use by another process (a syslog daemon?); stop it or choose another path"
        case .call(let call, let path, let errno):
            "\(path): \(call) failed: \(String(cString: strerror(errno)))"
        }
    }
}
