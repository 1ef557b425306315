import FlightlogWire
import NIOCore

extension FrameFields {
    /// The fields of `frame`, as a vector states them.
    init(_ frame: Frame) {
        switch frame {
        case .hello(let m):
            self.init(
                version: Int(m.version),
                publicKey: m.publicKey.hex,
                epoch: String(m.epoch),
                agentTimeNanos: String(m.agentTimeNanos),
                agentName: m.agentName
            )
        case .challenge(let m):
            self.init(version: Int(m.version), nonce: m.nonce.hex, aggregatorTimeNanos: String(m.aggregatorTimeNanos))
        case .proof(let m):
            self.init(signature: m.signature.hexString)
        case .welcome(let m):
            self.init(
                epoch: String(m.epoch),
                aggregatorTimeNanos: String(m.aggregatorTimeNanos),
                lastSequence: String(m.lastSequence),
                lastBatchHash: m.lastBatchHash.hex,
                window: Int(m.window),
                heartbeatIntervalSeconds: Int(m.heartbeatIntervalSeconds)
            )
        case .batch(let body):
            self.init(envelope: body.readableBytesView.hexString)
        case .ack(let m):
            self.init(
                epoch: String(m.epoch),
                sequence: String(m.sequence),
                batchHash: m.batchHash.hex,
                status: Int(m.status.rawValue),
                statusName: "\(m.status)"
            )
        case .heartbeat(let m):
            self.init(
                timeNanos: String(m.timeNanos),
                counters: m.counters.map { CounterVector(name: $0.name, value: String($0.value)) }
            )
        case .error(let m):
            self.init(
                sequence: String(m.sequence),
                code: Int(m.rawCode),
                codeName: m.code.map { "\($0)" },
                message: m.message
            )
        case .goodbye(let m):
            self.init(message: m.message)
        case .enroll(let m):
            self.init(signature: m.signature.hexString, token: m.token)
        case .enrolled(let m):
            self.init(agentName: m.agentName)
        case .rotate(let m):
            self.init(
                timeNanos: String(m.timeNanos),
                oldPublicKey: m.oldPublicKey.hex,
                oldEpoch: String(m.oldEpoch),
                oldHeadSequence: String(m.oldHeadSequence),
                oldHeadHash: m.oldHeadHash.hex,
                newPublicKey: m.newPublicKey.hex,
                newEpoch: String(m.newEpoch),
                oldSignature: m.oldSignature.hexString,
                newSignature: m.newSignature.hexString
            )
        case .rotated(let m):
            self.init(newPublicKey: m.newPublicKey.hex, newEpoch: String(m.newEpoch))
        }
    }

    /// The frame these fields describe, or nil when a field is missing or out of range.
    func frame(type: FrameType) -> Frame? {
        switch type {
        case .hello:
            guard let version = version.flatMap(UInt16.init(exactly:)), let key = publicKey.flatMap(Bytes32.init(hex:)),
                let epoch = epoch.flatMap(UInt64.init), let time = agentTimeNanos.flatMap(Int64.init),
                let agentName
            else { return nil }
            return .hello(
                Hello(version: version, publicKey: key, epoch: epoch, agentTimeNanos: time, agentName: agentName)
            )
        case .challenge:
            guard let version = version.flatMap(UInt16.init(exactly:)), let nonce = nonce.flatMap(Bytes32.init(hex:)),
                let time = aggregatorTimeNanos.flatMap(Int64.init)
            else { return nil }
            return .challenge(Challenge(version: version, nonce: nonce, aggregatorTimeNanos: time))
        case .proof:
            guard let signature = signature.flatMap({ [UInt8](hex: $0) }) else { return nil }
            return .proof(Proof(signature: signature))
        case .welcome:
            guard let epoch = epoch.flatMap(UInt64.init), let sequence = lastSequence.flatMap(UInt64.init),
                let hash = lastBatchHash.flatMap(Bytes32.init(hex:)),
                let window = window.flatMap(UInt16.init(exactly:)),
                let heartbeat = heartbeatIntervalSeconds.flatMap(UInt16.init(exactly:)),
                let time = aggregatorTimeNanos.flatMap(Int64.init)
            else { return nil }
            return .welcome(
                Welcome(
                    epoch: epoch,
                    lastSequence: sequence,
                    lastBatchHash: hash,
                    window: window,
                    heartbeatIntervalSeconds: heartbeat,
                    aggregatorTimeNanos: time
                )
            )
        case .batch:
            guard let envelope = envelope.flatMap({ [UInt8](hex: $0) }) else { return nil }
            return .batch(ByteBuffer(bytes: envelope))
        case .ack:
            guard let epoch = epoch.flatMap(UInt64.init), let sequence = sequence.flatMap(UInt64.init),
                let hash = batchHash.flatMap(Bytes32.init(hex:)),
                let status = status.flatMap(UInt8.init(exactly:)).flatMap(Ack.Status.init(rawValue:))
            else { return nil }
            return .ack(Ack(epoch: epoch, sequence: sequence, batchHash: hash, status: status))
        case .heartbeat:
            guard let time = timeNanos.flatMap(Int64.init), let counters else { return nil }
            var decoded: [Heartbeat.Counter] = []
            for counter in counters {
                guard let value = UInt64(counter.value) else { return nil }
                decoded.append(Heartbeat.Counter(name: counter.name, value: value))
            }
            return .heartbeat(Heartbeat(timeNanos: time, counters: decoded))
        case .error:
            guard let code = code.flatMap(UInt16.init(exactly:)).flatMap(ErrorCode.init(rawValue:)),
                let sequence = sequence.flatMap(UInt64.init), let message
            else { return nil }
            return .error(ErrorMessage(code: code, sequence: sequence, message: message))
        case .goodbye:
            guard let message else { return nil }
            return .goodbye(Goodbye(message: message))
        case .enroll:
            guard let token, let signature = signature.flatMap({ [UInt8](hex: $0) }) else { return nil }
            return .enroll(Enroll(token: token, signature: signature))
        case .enrolled:
            guard let agentName else { return nil }
            return .enrolled(Enrolled(agentName: agentName))
        case .rotate:
            guard let old = oldPublicKey.flatMap(Bytes32.init(hex:)), let oldEpoch = oldEpoch.flatMap(UInt64.init),
                let head = oldHeadSequence.flatMap(UInt64.init), let hash = oldHeadHash.flatMap(Bytes32.init(hex:)),
                let new = newPublicKey.flatMap(Bytes32.init(hex:)), let newEpoch = newEpoch.flatMap(UInt64.init),
                let time = timeNanos.flatMap(Int64.init), let oldSignature = oldSignature.flatMap({ [UInt8](hex: $0) }),
                let newSignature = newSignature.flatMap({ [UInt8](hex: $0) })
            else { return nil }
            return .rotate(
                RotationRecord(
                    oldPublicKey: old,
                    oldEpoch: oldEpoch,
                    oldHeadSequence: head,
                    oldHeadHash: hash,
                    newPublicKey: new,
                    newEpoch: newEpoch,
                    timeNanos: time,
                    oldSignature: oldSignature,
                    newSignature: newSignature
                )
            )
        case .rotated:
            guard let key = newPublicKey.flatMap(Bytes32.init(hex:)), let epoch = newEpoch.flatMap(UInt64.init) else {
                return nil
            }
            return .rotated(Rotated(newPublicKey: key, newEpoch: epoch))
        }
    }
}

extension FrameType {
    /// The case name, e.g. `hello`.
    var name: String { "\(self)" }
    /// The type byte as vectors and PROTOCOL.md write it, e.g. `0x01`.
    var hexByte: String { "0x" + [self.rawValue].hexString }
    /// The upper-case name PROTOCOL.md uses, e.g. `HELLO`.
    var wireName: String { "\(self)".uppercased() }

    init?(name: String) {
        guard let type = FrameType.allCases.first(where: { $0.name == name }) else { return nil }
        self = type
    }
}
