import FlightlogStore
import FlightlogWire

/// What the aggregator knows of a session between HELLO and WELCOME (PROTOCOL.md §7.2).
struct Handshaking {
    let hello: Hello
    /// The selected version: min(HELLO's, ours) (§7.2 rule 2).
    let version: UInt16
    /// The handshake's record for the store, completed as the handshake goes on.
    var record: HandshakeRecord
    /// The chain the session ships: HELLO's epoch, or the new epoch of a rotation (§4.12).
    var epoch: UInt64

    init(hello: Hello, atNanos: Int64, peer: String) {
        self.hello = hello
        self.version = min(hello.version, ProtocolVersion.current)
        self.epoch = hello.epoch
        self.record = HandshakeRecord(
            atNanos: atNanos,
            peer: peer,
            publicKey: hello.publicKey,
            agentID: nil,
            agentName: hello.agentName,
            epoch: hello.epoch,
            // Any i64 is a legal agent clock (§4.1) and skew never refuses a session (§7.2.7): saturate, never trap.
            skewNanos: hello.agentTimeNanos.subtractingSaturating(atNanos),
            outcome: "accepted"
        )
    }

    /// Whether ENROLL and ROTATE are part of the selected version (§4.10, §4.12): in version 1 they are
    /// `unexpectedFrame`.
    var allowsEnrolmentAndRotation: Bool { self.version >= 2 }
}
