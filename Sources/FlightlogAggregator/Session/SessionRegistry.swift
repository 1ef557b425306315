import NIOConcurrencyHelpers
import Synchronization

/// One session per agent (PROTOCOL.md §7.2 rule 8): the newest to complete its handshake is served, and the session
/// it replaces is closed.
///
/// An authenticated session may hold up to three frames of up to 4 MiB each (two waiting in its channel's buffer, one
/// being read), so sessions opened by the thousand with one stolen key would be gigabytes, enough to get the
/// aggregator killed for memory. An agent keeps one connection; a second one means the first is dead without the
/// aggregator knowing yet (a reconnect after a network failure, which must not wait for the 45 s idle timeout), or
/// two hosts share a key (a cloned disk image), which the log line and the `sessions_replaced` counter then show.
final class SessionRegistry: Sendable {
    private struct Owner {
        let token: UInt64
        let close: @Sendable () -> Void
    }

    private let owners = NIOLockedValueBox<[Int64: Owner]>([:])
    private let tokens = Atomic<UInt64>(0)

    /// A token that names one session.
    func makeToken() -> UInt64 {
        self.tokens.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Makes the session named `token` the one of `agentID`; closes the one it replaces (with `close` as that one
    /// registered it) and returns whether there was one.
    func claim(_ agentID: Int64, token: UInt64, close: @escaping @Sendable () -> Void) -> Bool {
        let replaced = self.owners.withLockedValue { owners -> Owner? in
            let previous = owners[agentID]
            owners[agentID] = Owner(token: token, close: close)
            return previous?.token == token ? nil : previous
        }
        replaced?.close()
        return replaced != nil
    }

    /// The session named `token` has ended: `agentID` has no session, unless a newer one already claimed it.
    func release(_ agentID: Int64, token: UInt64) {
        self.owners.withLockedValue { owners in
            if owners[agentID]?.token == token { owners[agentID] = nil }
        }
    }
}
