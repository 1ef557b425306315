import FlightlogEvidence
import FlightlogWire

/// The derived column values of a batch's event rows: each event's indexed columns, and its `fields` JSON, one
/// after the other in one buffer.
struct PreparedRows: Sendable {
    let columns: [IndexedSpans]
    let json: [UInt8]
    /// Event `i`'s JSON ends at `jsonEnd[i]` (and starts where event `i - 1`'s ends).
    let jsonEnd: [Int]

    /// `compact`: copy the JSON into a buffer of its own size, for rows that wait in the commit queue (see below);
    /// `verify`'s, used at once, keep the larger buffer.
    init(_ layout: EventLayout, compact: Bool = true) {
        self.columns = layout.entries.map { IndexedSpans(layout, $0) }
        var bound = 0
        for entry in layout.entries { bound += FieldsJSON.maxLength(layout, entry) }
        var ends: [Int] = []
        ends.reserveCapacity(layout.entries.count)
        let json = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            for entry in layout.entries {
                FieldsJSON.write(layout, entry, to: base, at: &count)
                ends.append(count)
            }
        }
        // The bound leaves room to escape every byte (six times the text); an item waits in the commit queue with
        // its rows, so they are copied into a buffer of their own size (~0.03 µs per event).
        self.json =
            compact
            ? [UInt8](unsafeUninitializedCapacity: json.count) { buffer, count in
                _ = buffer.initialize(from: json)
                count = json.count
            } : json
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
