public import NIOCore

// MARK: - Encoding

extension ByteBuffer {
    /// Writes `frame` with its length prefix and type byte (PROTOCOL.md §3).
    ///
    /// Encoding trusts the values it is given to respect ``WireLimits``: they are built by this code, not read
    /// from a peer. Strings over a limit are cut by the message initialisers.
    public mutating func writeFrame(_ frame: Frame) {
        let lengthIndex = self.writerIndex
        self.writeInteger(UInt32(0), endianness: .big)
        self.writeInteger(frame.type.rawValue)
        switch frame {
        case .hello(let hello):
            self.writeBytes(Hello.magic)
            self.writeInteger(hello.version, endianness: .big)
            self.writeBytes(hello.publicKey.bytes)
            self.writeInteger(hello.epoch, endianness: .big)
            self.writeInteger(hello.agentTimeNanos, endianness: .big)
            self.writeWireString(
                hello.agentName.truncatedToUTF8Length(WireLimits.maxAgentNameLength),
                prefix: UInt8.self
            )
        case .challenge(let challenge):
            self.writeInteger(challenge.version, endianness: .big)
            self.writeBytes(challenge.nonce.bytes)
            self.writeInteger(challenge.aggregatorTimeNanos, endianness: .big)
        case .proof(let proof):
            self.writeBytes(proof.signature)
        case .welcome(let welcome):
            self.writeInteger(welcome.epoch, endianness: .big)
            self.writeInteger(welcome.lastSequence, endianness: .big)
            self.writeBytes(welcome.lastBatchHash.bytes)
            self.writeInteger(welcome.window, endianness: .big)
            self.writeInteger(welcome.heartbeatIntervalSeconds, endianness: .big)
            self.writeInteger(welcome.aggregatorTimeNanos, endianness: .big)
        case .batch(let body):
            self.writeImmutableBuffer(body)
        case .ack(let ack):
            self.writeInteger(ack.epoch, endianness: .big)
            self.writeInteger(ack.sequence, endianness: .big)
            self.writeBytes(ack.batchHash.bytes)
            self.writeInteger(ack.status.rawValue)
        case .heartbeat(let heartbeat):
            self.writeInteger(heartbeat.timeNanos, endianness: .big)
            let counters = heartbeat.counters.prefix(WireLimits.maxHeartbeatCounters)
            self.writeInteger(UInt8(counters.count))
            for counter in counters {
                self.writeWireString(
                    counter.name.truncatedToUTF8Length(WireLimits.maxCounterNameLength),
                    prefix: UInt8.self
                )
                self.writeInteger(counter.value, endianness: .big)
            }
        case .error(let error):
            self.writeInteger(error.rawCode, endianness: .big)
            self.writeInteger(error.sequence, endianness: .big)
            self.writeWireString(error.message.truncatedToUTF8Length(WireLimits.maxMessageLength), prefix: UInt16.self)
        case .goodbye(let goodbye):
            self.writeWireString(
                goodbye.message.truncatedToUTF8Length(WireLimits.maxMessageLength),
                prefix: UInt16.self
            )
        case .enroll(let enroll):
            self.writeWireString(String(enroll.token.prefix(WireLimits.maxTokenLength)), prefix: UInt8.self)
            self.writeBytes(enroll.signature)
        case .enrolled(let enrolled):
            self.writeWireString(
                enrolled.agentName.truncatedToUTF8Length(WireLimits.maxAgentNameLength),
                prefix: UInt8.self
            )
        case .rotate(let record):
            self.writeBytes(record.bytes)
        case .rotated(let rotated):
            self.writeBytes(rotated.newPublicKey.bytes)
            self.writeInteger(rotated.newEpoch, endianness: .big)
        }
        let length = self.writerIndex - lengthIndex - 4
        self.setInteger(UInt32(length), at: lengthIndex, endianness: .big)
    }
}

extension Frame {
    /// The frame's complete wire form, length prefix included.
    public var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(self)
        return buffer
    }
}

// MARK: - Decoding

extension Frame {
    /// Decodes one frame body of the given type; `body` must hold exactly the body (PROTOCOL.md §4).
    public static func decode(typeByte: UInt8, body: inout ByteBuffer) throws(WireError) -> Frame {
        guard let type = FrameType(rawValue: typeByte) else {
            throw WireError.unknownFrameType(typeByte)
        }
        let frame: Frame
        switch type {
        case .hello:
            let magic = try body.readWireBytes(4, "HELLO magic")
            guard magic == Hello.magic else { throw WireError.badMagic(what: "HELLO") }
            let version = try body.readWireInteger("HELLO version", as: UInt16.self)
            guard version >= 1 else { throw WireError.unsupportedVersion(what: "protocol", version: Int(version)) }
            let key = try body.readWire32("HELLO public key")
            let epoch = try body.readWireInteger("HELLO epoch", as: UInt64.self)
            let time = try body.readWireInteger("HELLO agent clock", as: Int64.self)
            let name = try body.readWireString(
                "HELLO agent name",
                prefix: UInt8.self,
                limit: WireLimits.maxAgentNameLength
            )
            frame = .hello(Hello(version: version, publicKey: key, epoch: epoch, agentTimeNanos: time, agentName: name))
        case .challenge:
            let version = try body.readWireInteger("CHALLENGE version", as: UInt16.self)
            let nonce = try body.readWire32("CHALLENGE nonce")
            let time = try body.readWireInteger("CHALLENGE aggregator clock", as: Int64.self)
            frame = .challenge(Challenge(version: version, nonce: nonce, aggregatorTimeNanos: time))
        case .proof:
            frame = .proof(Proof(signature: try body.readWireBytes(64, "PROOF signature")))
        case .welcome:
            let epoch = try body.readWireInteger("WELCOME epoch", as: UInt64.self)
            let sequence = try body.readWireInteger("WELCOME last sequence", as: UInt64.self)
            let hash = try body.readWire32("WELCOME last batch hash")
            let window = try body.readWireInteger("WELCOME window", as: UInt16.self)
            guard window >= 1, Int(window) <= WireLimits.maxWindow else {
                throw WireError.invalidValue(what: "WELCOME window", value: Int(window))
            }
            let heartbeat = try body.readWireInteger("WELCOME heartbeat interval", as: UInt16.self)
            guard heartbeat >= 1 else { throw WireError.invalidValue(what: "WELCOME heartbeat interval", value: 0) }
            let time = try body.readWireInteger("WELCOME aggregator clock", as: Int64.self)
            frame = .welcome(
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
            let all = body.readableBytes
            guard let slice = body.readSlice(length: all) else { throw WireError.truncated(what: "BATCH") }
            frame = .batch(slice)
        case .ack:
            let epoch = try body.readWireInteger("ACK epoch", as: UInt64.self)
            let sequence = try body.readWireInteger("ACK sequence", as: UInt64.self)
            let hash = try body.readWire32("ACK batch hash")
            let statusByte = try body.readWireInteger("ACK status", as: UInt8.self)
            guard let status = Ack.Status(rawValue: statusByte) else {
                throw WireError.invalidValue(what: "ACK status", value: Int(statusByte))
            }
            frame = .ack(Ack(epoch: epoch, sequence: sequence, batchHash: hash, status: status))
        case .heartbeat:
            let time = try body.readWireInteger("HEARTBEAT clock", as: Int64.self)
            let count = Int(try body.readWireInteger("HEARTBEAT counter count", as: UInt8.self))
            try checkLength("HEARTBEAT counter count", count, limit: WireLimits.maxHeartbeatCounters)
            var counters: [Heartbeat.Counter] = []
            counters.reserveCapacity(count)
            for _ in 0..<count {
                let name = try body.readWireString(
                    "HEARTBEAT counter name",
                    prefix: UInt8.self,
                    limit: WireLimits.maxCounterNameLength
                )
                let value = try body.readWireInteger("HEARTBEAT counter value", as: UInt64.self)
                counters.append(Heartbeat.Counter(name: name, value: value))
            }
            frame = .heartbeat(Heartbeat(timeNanos: time, counters: counters))
        case .error:
            let code = try body.readWireInteger("ERROR code", as: UInt16.self)
            let sequence = try body.readWireInteger("ERROR sequence", as: UInt64.self)
            let message = try body.readWireString(
                "ERROR message",
                prefix: UInt16.self,
                limit: WireLimits.maxMessageLength
            )
            frame = .error(ErrorMessage(rawCode: code, sequence: sequence, message: message))
        case .goodbye:
            let message = try body.readWireString(
                "GOODBYE message",
                prefix: UInt16.self,
                limit: WireLimits.maxMessageLength
            )
            frame = .goodbye(Goodbye(message: message))
        case .enroll:
            let token = try body.readWireString("ENROLL token", prefix: UInt8.self, limit: WireLimits.maxTokenLength)
            guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw WireError.invalidValue(
                    what: "ENROLL token (printable ASCII, 1 … 64 bytes)",
                    value: token.utf8.count
                )
            }
            frame = .enroll(Enroll(token: token, signature: try body.readWireBytes(64, "ENROLL signature")))
        case .enrolled:
            let name = try body.readWireString(
                "ENROLLED agent name",
                prefix: UInt8.self,
                limit: WireLimits.maxAgentNameLength
            )
            frame = .enrolled(Enrolled(agentName: name))
        case .rotate:
            frame = .rotate(try RotationRecord(buffer: &body))
        case .rotated:
            let key = try body.readWire32("ROTATED new public key")
            let epoch = try body.readWireInteger("ROTATED new epoch", as: UInt64.self)
            frame = .rotated(Rotated(newPublicKey: key, newEpoch: epoch))
        }
        guard body.readableBytes == 0 else {
            throw WireError.trailingBytes(what: "\(type) frame", count: body.readableBytes)
        }
        return frame
    }
}
