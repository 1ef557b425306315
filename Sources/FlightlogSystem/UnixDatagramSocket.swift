import Glibc

/// Who sent a datagram over a Unix socket, as the kernel vouches for it (`SCM_CREDENTIALS`, see unix(7)), not as the
/// message claims. A process with CAP_SYS_ADMIN or CAP_SETUID/CAP_SETGID can state other values; any other sender
/// gets its real ones.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// A Unix datagram socket bound to a path, receiving with `recvmsg(2)` and `SO_PASSCRED` so that each datagram comes
/// with its sender's credentials: what a syslog daemon listening on `/dev/log` does. Here because `msghdr`,
/// `cmsghdr` and `sockaddr_un` fall under the same import rule as `stat` (see ``FileStatus``).
///
/// One thread receives (``receive(into:)`` blocks for at most the receive timeout) and closes the socket when done;
/// any thread may ``interrupt()`` a receive.
public final class UnixDatagramSocket: @unchecked Sendable {
    /// Longest path `sockaddr_un` holds, in bytes, without its terminating NUL.
    public static let maxPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// The path the socket is bound to.
    public let path: String
    private let descriptor: Int32
    /// Guards `closed`, so that ``interrupt()`` never reaches a descriptor number ``close()`` has given back.
    private let lock = Mutex()
    private var closed = false
    /// The bound file's identity, so that ``close()`` removes only the socket file it created.
    private let identity: (device: UInt64, inode: UInt64)?

    /// What one ``receive(into:)`` got.
    public enum Receipt: Sendable, Equatable {
        /// A datagram: `length` bytes at the start of the buffer; `truncated` when it was longer than the buffer
        /// (the rest is lost, as `recvmsg(2)` discards it).
        case datagram(length: Int, truncated: Bool, credentials: PeerCredentials?)
        /// Nothing arrived within the receive timeout (or a signal interrupted the wait).
        case timedOut
        /// The socket was closed.
        case closed
        /// `recvmsg(2)` failed with this errno.
        case failed(Int32)
    }

    private init(path: String, descriptor: Int32, identity: (device: UInt64, inode: UInt64)?) {
        self.path = path
        self.descriptor = descriptor
        self.identity = identity
    }

    deinit {
        self.close()
    }

    /// Binds a datagram socket at `path`, readable and writable by every user (as `/dev/log` is), with
    /// `SO_PASSCRED` on and a receive timeout of `receiveTimeoutMilliseconds`.
    ///
    /// A file already at `path` is removed only when it is a socket nobody is bound to (left by a process that died);
    /// a socket in use, or any other kind of file, is an error.
    public static func bind(
        path: String,
        receiveTimeoutMilliseconds: Int = 200
    ) throws(SocketError) -> UnixDatagramSocket {
        guard !path.isEmpty, path.utf8.count <= Self.maxPathLength else {
            throw .pathTooLong(path: path, limit: Self.maxPathLength)
        }
        try Self.removeStaleSocket(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .call("socket", path: path, errno: errno) }
        var address = Self.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let error = errno
            Glibc.close(fd)
            throw error == EADDRINUSE ? .inUse(path: path) : .call("bind", path: path, errno: error)
        }
        var info = stat()
        let identity: (UInt64, UInt64)? =
            lstat(path, &info) == 0 ? (UInt64(info.st_dev), UInt64(info.st_ino)) : nil
        let socket = UnixDatagramSocket(path: path, descriptor: fd, identity: identity)
        var on: Int32 = 1
        guard chmod(path, 0o666) == 0 else { throw socket.failed("chmod") }
        guard setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw socket.failed("setsockopt(SO_PASSCRED)")
        }
        var timeout = timeval(
            tv_sec: receiveTimeoutMilliseconds / 1000,
            tv_usec: (receiveTimeoutMilliseconds % 1000) * 1000
        )
        guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            throw socket.failed("setsockopt(SO_RCVTIMEO)")
        }
        return socket
    }

    /// Closes the socket (and removes its file) after recording `call`'s errno as the error to throw.
    private func failed(_ call: String) -> SocketError {
        let error = SocketError.call(call, path: self.path, errno: errno)
        self.close()
        return error
    }

    /// Receives one datagram into `buffer` (its whole count is the most kept). Blocks for at most the receive
    /// timeout, or until ``interrupt()``.
    public func receive(into buffer: inout [UInt8]) -> Receipt {
        guard !self.lock.withLock({ self.closed }) else { return .closed }
        let fd = self.descriptor
        // Room for the credentials and a few descriptors: descriptors a sender passes are closed at once (a syslog
        // socket has no use for them, and keeping them would let any local user exhaust the agent's descriptors).
        let controlCapacity = 256
        let control = UnsafeMutableRawPointer.allocate(byteCount: controlCapacity, alignment: 16)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: controlCapacity)
        let capacity = buffer.count
        let (received, controlLength): (Int, Int) = buffer.withUnsafeMutableBytes { bytes in
            var vector = iovec(iov_base: bytes.baseAddress, iov_len: capacity)
            return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                var message = msghdr()
                message.msg_iov = vectorPointer
                message.msg_iovlen = 1
                message.msg_control = control
                message.msg_controllen = controlCapacity
                let count = recvmsg(fd, &message, Int32(MSG_TRUNC) | Int32(MSG_CMSG_CLOEXEC))
                return (count, Int(message.msg_controllen))
            }
        }
        guard received >= 0 else {
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return .timedOut }
            return .failed(error)
        }
        let credentials = Self.readControl(control, length: min(controlLength, controlCapacity))
        return .datagram(length: min(received, capacity), truncated: received > capacity, credentials: credentials)
    }

    /// The credentials among the control messages; closes any descriptors passed along.
    private static func readControl(_ control: UnsafeMutableRawPointer, length: Int) -> PeerCredentials? {
        let headerSize = MemoryLayout<cmsghdr>.size
        let align = MemoryLayout<Int>.size
        func aligned(_ value: Int) -> Int { (value + align - 1) & ~(align - 1) }
        var credentials: PeerCredentials?
        var offset = 0
        while offset + headerSize <= length {
            let header = control.load(fromByteOffset: offset, as: cmsghdr.self)
            let total = Int(header.cmsg_len)
            guard total >= headerSize, offset + total <= length else { break }
            let data = offset + aligned(headerSize)
            let dataLength = total - aligned(headerSize)
            if header.cmsg_level == SOL_SOCKET && header.cmsg_type == Self.scmCredentials && dataLength >= 12 {
                // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (declared only under _GNU_SOURCE).
                credentials = PeerCredentials(
                    pid: control.loadUnaligned(fromByteOffset: data, as: Int32.self),
                    uid: control.loadUnaligned(fromByteOffset: data + 4, as: UInt32.self),
                    gid: control.loadUnaligned(fromByteOffset: data + 8, as: UInt32.self)
                )
            } else if header.cmsg_level == SOL_SOCKET && header.cmsg_type == Self.scmRights {
                for index in 0..<max(0, dataLength / 4) {
                    Glibc.close(control.loadUnaligned(fromByteOffset: data + 4 * index, as: Int32.self))
                }
            }
            offset += aligned(total)
        }
        return credentials
    }

    /// `SCM_RIGHTS` and `SCM_CREDENTIALS` of Linux's `<bits/socket.h>` (the latter declared only under _GNU_SOURCE).
    private static let scmRights: Int32 = 1
    private static let scmCredentials: Int32 = 2

    /// Wakes a receive blocked in another thread (it returns an empty datagram or times out); the socket stays
    /// open until ``close()``.
    public func interrupt() {
        self.lock.withLock {
            if !self.closed { shutdown(self.descriptor, Int32(SHUT_RDWR)) }
        }
    }

    /// Closes the socket and removes its file, if the file is still the one it bound. Idempotent; not while another
    /// thread is in ``receive(into:)``.
    public func close() {
        let wasOpen = self.lock.withLock {
            let wasOpen = !self.closed
            if wasOpen { Glibc.close(self.descriptor) }
            self.closed = true
            return wasOpen
        }
        guard wasOpen else { return }
        var info = stat()
        if let identity = self.identity, lstat(self.path, &info) == 0, UInt64(info.st_dev) == identity.device,
            UInt64(info.st_ino) == identity.inode
        {
            unlink(self.path)
        }
    }

    /// Sends one datagram to the socket at `path` (for tests and tools); whether all of it was sent.
    public static func send(_ bytes: [UInt8], to path: String) -> Bool {
        guard path.utf8.count <= Self.maxPathLength else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var address = Self.address(path)
        let sent = bytes.withUnsafeBytes { data in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, data.baseAddress, data.count, 0, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        return sent == bytes.count
    }

    // MARK: - Path

    private static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(Self.maxPathLength).enumerated() { raw[index] = byte }
        }
        return address
    }

    /// Removes `path` when it is a socket that nothing is bound to; throws when it is anything else.
    private static func removeStaleSocket(_ path: String) throws(SocketError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw .call("lstat", path: path, errno: errno)
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else { throw .notASocket(path: path) }
        let probe = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw .call("socket", path: path, errno: errno) }
        defer { Glibc.close(probe) }
        var address = Self.address(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        let error = errno
        // Refused: the file outlived its socket. Anything else (connected, a stream socket, no permission) means
        // another process may own it.
        guard connected != 0, error == ECONNREFUSED else {
            throw connected == 0 || error == EPROTOTYPE
                ? .inUse(path: path) : .call("connect", path: path, errno: error)
        }
        guard unlink(path) == 0 || errno == ENOENT else { throw .call("unlink", path: path, errno: errno) }
    }
}

/// A `pthread_mutex_t` for the few fields ``UnixDatagramSocket`` shares between threads (FlightlogSystem depends on
/// nothing but Glibc).
final class Mutex: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(self.mutex, nil) }

    deinit {
        pthread_mutex_destroy(self.mutex)
        self.mutex.deallocate()
    }

    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        return body()
    }
}
