public import FlightlogWire
import NIOCore

/// The frame decoder as the aggregator feeds it: a byte stream arriving in chunks of any size (PROTOCOL.md §3–4).
///
/// Input: one control byte, then the stream. The control byte's low 6 bits + 1 are the chunk size, bit 6 delivers
/// the stream in one piece instead, bit 7 keeps the handshake's small frame limit for the whole stream. Every frame
/// that decodes must be exactly the encoder's bytes for its value (no slack a peer could fill with garbage); the first
/// error ends the stream, as it ends a connection.
public enum FrameTarget {
    public static func run(_ data: UnsafeRawBufferPointer) {
        guard let control = data.first else { return }
        let stream = data[(data.startIndex + 1)...]
        let chunk = control & 0x40 != 0 ? max(stream.count, 1) : Int(control & 0x3f) + 1
        var parser = FrameParser(
            maxFrameLength: control & 0x80 != 0 ? WireLimits.maxHandshakeFrameLength : WireLimits.maxFrameLength
        )
        var buffer = ByteBuffer()
        var index = stream.startIndex
        var consumed = StreamPosition(stream: Array(stream))
        while index < stream.endIndex {
            let end = min(index + chunk, stream.endIndex)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: stream[index..<end]))
            index = end
            do {
                while let frame = try parser.nextFrame(buffer: &buffer) {
                    consumed.check(frame)
                }
            } catch {
                return
            }
            buffer.discardReadBytes()
        }
    }

}

/// Where the next frame starts in a stream whose frames decode in order.
struct StreamPosition {
    let stream: [UInt8]
    var offset = 0

    /// `frame` decoded from the bytes at the current offset: they must be exactly its encoding.
    mutating func check(_ frame: Frame) {
        let encoded = Array(frame.encoded.readableBytesView)
        let end = self.offset + encoded.count
        invariant(
            end <= self.stream.count && self.stream[self.offset..<end].elementsEqual(encoded),
            "a \(frame.type) frame decoded from bytes that are not its encoding"
        )
        self.offset = end
    }
}
