import NIOCore
import Synchronization

/// Whether one connection's handshake is complete, shared by its frame decoder (which accepts only small frames
/// until then) and the handler that sees WELCOME go out.
public final class HandshakeLimit: Sendable {
    private let complete = Atomic<Bool>(false)

    public init() {}

    /// Whether WELCOME has been sent.
    public var isComplete: Bool { self.complete.load(ordering: .acquiring) }

    /// Called when WELCOME is written: frames up to ``WireLimits/maxFrameLength`` are accepted from then on.
    public func markComplete() { self.complete.store(true, ordering: .releasing) }
}
