import Glibc

/// One agent per state directory: an exclusive `flock` on `STATE/agent.lock`, held while `run` or `rotate-key`
/// works on it. Two agents on one state directory would spool the same sequences twice; `rotate-key` must not
/// change the key under a running agent. The kernel drops the lock when the process ends, however it ends.
final class StateLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    static func acquire(directory: String, purpose: String) throws(AgentError) -> StateLock {
        let path = directory + "/agent.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw AgentError.io(path: path, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw AgentError.badState(
                path: directory,
                reason: "another flightlog-agent uses this state directory; stop it first (\(purpose))"
            )
        }
        return StateLock(descriptor: descriptor)
    }

    deinit {
        close(self.descriptor)
    }
}
