import FlightlogEvidence
import FlightlogWire

/// The derived column values of a batch's event rows, as `verify` compares them with a stored row: each event's
/// indexed columns, and its `fields` JSON (what a row from before lines were kept in their batches holds), one after
/// the other in one buffer.
struct PreparedRows: Sendable {
    let columns: [IndexedSpans]
    let json: [UInt8]
    /// Event `i`'s JSON ends at `jsonEnd[i]` (and starts where event `i - 1`'s ends).
    let jsonEnd: [Int]

    /// Used at once by `verify`'s examining threads, so the JSON stays in the buffer its bound sized (six times the
    /// text, room to escape every byte); nothing waits with it.
    init(_ layout: EventLayout) {
        self.columns = layout.entries.map { IndexedSpans(layout, $0) }
        var bound = 0
        for entry in layout.entries { bound += FieldsJSON.maxLength(layout, entry) }
        var ends: [Int] = []
        ends.reserveCapacity(layout.entries.count)
        self.json = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            for entry in layout.entries {
                FieldsJSON.write(layout, entry, to: base, at: &count)
                ends.append(count)
            }
        }
        self.jsonEnd = ends
    }

    /// Calls `body` with the `fields` JSON of event `index`.
    func withJSON<T>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        let start = index == 0 ? 0 : self.jsonEnd[index - 1]
        return try self.json.withUnsafeBufferPointer {
            try body(UnsafeBufferPointer(rebasing: $0[start..<self.jsonEnd[index]]))
        }
    }
}
