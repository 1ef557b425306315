import Crypto
public import FlightlogWire

/// What the aggregator does with a BATCH body once its signature verified (PROTOCOL.md §5–6): parse the envelope,
/// inflate the payload (never past its declared length) and decode its events. The signature check is skipped, so
/// that the fuzzer reaches the decoder with envelopes it cannot sign.
///
/// Input: one mode byte (its value modulo 4), then
/// - 0: a BATCH body: the envelope is parsed, its payload inflated and its events decoded;
/// - 1: a big-endian u16 event count, then an uncompressed payload, decoded;
/// - 2: a big-endian u16 declared length, then a zlib stream, inflated;
/// - 3: a big-endian u16 event count, then an uncompressed payload, compressed and signed into an envelope, which
///   must parse back and decode as the payload does.
///
/// Events that decode must encode back to the same payload.
public enum BatchTarget {
    /// The vectors' key (seed 00 01 … 1f), which mode 3 signs with.
    static let signingKey: Curve25519.Signing.PrivateKey? = try? Curve25519.Signing.PrivateKey(
        rawRepresentation: (0..<32).map { UInt8($0) }
    )

    public static func run(_ data: UnsafeRawBufferPointer) {
        guard let mode = data.first else { return }
        let rest = Array(data.dropFirst())
        switch mode % 4 {
        case 0:
            Self.decodeEnvelope(rest)
        case 1:
            guard rest.count >= 2 else { return }
            _ = Self.decodePayload(Array(rest.dropFirst(2)), count: Int(rest[0]) << 8 | Int(rest[1]))
        case 2:
            guard rest.count >= 2 else { return }
            let declared = Int(rest[0]) << 8 | Int(rest[1])
            if let inflated = try? Zlib.inflate(rest.dropFirst(2), declaredLength: declared) {
                invariant(inflated.count == declared, "inflate returned \(inflated.count) bytes, not \(declared)")
            }
        default:
            guard rest.count >= 2 else { return }
            Self.envelopeRoundTrip(Array(rest.dropFirst(2)), count: Int(rest[0]) << 8 | Int(rest[1]))
        }
    }

    static func decodeEnvelope(_ body: [UInt8]) {
        guard let batch = try? SignedBatch(bytes: body) else { return }
        invariant(batch.bytes == body, "the envelope keeps other bytes than it was given")
        let layout: EventLayout
        do {
            layout = try batch.decodeLayout()
        } catch {
            return
        }
        invariant(layout.entries.count == batch.eventCount, "the layout has another count than the header")
        let events = layout.events()
        invariant((try? batch.decodeEvents()) == events, "decodeEvents disagrees with decodeLayout")
    }

    /// Decodes `payload`; the events when it decodes, which must encode back to the same bytes.
    @discardableResult
    static func decodePayload(_ payload: [UInt8], count: Int) -> [Event]? {
        guard let events = try? EventCodec.decode(payload, count: count) else { return nil }
        invariant(events.count == count, "\(events.count) events decoded, \(count) declared")
        invariant((try? EventCodec.encode(events)) == payload, "decoded events do not encode back to the payload")
        return events
    }

    static func envelopeRoundTrip(_ payload: [UInt8], count: Int) {
        // A payload of no events decodes (to nothing), but a batch holds 1 … 65,536 of them (PROTOCOL.md §5).
        guard let events = Self.decodePayload(payload, count: count), !events.isEmpty, let key = Self.signingKey
        else { return }
        let header = BatchHeader(
            keyID: KeyID.of(key.publicKey),
            epoch: 1,
            sequence: 1,
            previousHash: .zero,
            createdNanos: 0,
            events: events
        )
        let batch: SignedBatch
        do {
            batch = try SignedBatch.build(events: events, header: header, signingKey: key, compressionLevel: 1)
        } catch {
            invariant(false, "events that decoded cannot be built into a batch: \(error)")
            return
        }
        let parsed: SignedBatch
        do {
            parsed = try SignedBatch(bytes: batch.bytes)
            try parsed.verifySignature(publicKey: key.publicKey)
        } catch {
            invariant(false, "a built batch does not parse or verify: \(error)")
            return
        }
        invariant((try? parsed.decodeEvents()) == events, "a built batch does not decode to its events")
    }
}
