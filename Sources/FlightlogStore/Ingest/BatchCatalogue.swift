import FlightlogWire

/// The distinct field keys, programs, sources and audit views of one batch's events: what the store's catalogue
/// (``SQLiteStore/catalogue()``) gains when the batch is stored. Found off the writer, with no string per field: a
/// byte hash into a small table, the bytes compared only on equal hashes.
struct BatchCatalogue: Sendable {
    var fields: [String] = []
    var programs: [String] = []
    var sources: [String] = []
    /// The values of `audit_view` (``StoreCatalogue/auditViews``).
    var auditViews: [String] = []

    /// All of them, as catalogue rows.
    var names: [CatalogueName] {
        self.fields.map { CatalogueName("field", $0) } + self.programs.map { CatalogueName("program", $0) }
            + self.sources.map { CatalogueName("source", $0) }
            + self.auditViews.map { CatalogueName(StoreCatalogue.auditViewKey, $0) }
    }

    init(_ layout: EventLayout, _ columns: [IndexedSpans]) {
        layout.bytes.withUnsafeBufferPointer { payload in
            var fieldSet = SpanSet()
            var programSet = SpanSet()
            var sourceSet = SpanSet()
            var viewSet = SpanSet()
            for (index, entry) in layout.entries.enumerated() {
                for field in entry.fieldRange {
                    let key = layout.fields[field].key
                    fieldSet.insert(key, payload)
                    if Self.isAuditView(key, payload) { viewSet.insert(layout.fields[field].value, payload) }
                }
                if let program = columns[index].program { programSet.insert(program, payload) }
                sourceSet.insert(entry.source, payload)
            }
            self.fields = fieldSet.strings(payload)
            self.programs = programSet.strings(payload)
            self.sources = sourceSet.strings(payload)
            self.auditViews = viewSet.strings(payload)
        }
    }

    /// Whether the key is `audit_view`: its length first, so that other keys cost one comparison.
    private static func isAuditView(_ span: EventLayout.Span, _ payload: UnsafeBufferPointer<UInt8>) -> Bool {
        guard span.count == Self.auditViewKey.count else { return false }
        for offset in 0..<span.count where payload[span.start + offset] != Self.auditViewKey[offset] { return false }
        return true
    }

    private static let auditViewKey = Array(StoreCatalogue.auditViewKey.utf8)

    /// Distinct byte spans of one payload.
    private struct SpanSet {
        private var hashes: [UInt64] = []
        private var spans: [EventLayout.Span] = []

        mutating func insert(_ span: EventLayout.Span, _ payload: UnsafeBufferPointer<UInt8>) {
            let bytes = UnsafeBufferPointer(rebasing: payload[span.start..<(span.start + span.count)])
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            for (index, known) in self.hashes.enumerated() where known == hash {
                let other = self.spans[index]
                if other.count == span.count
                    && UnsafeBufferPointer(rebasing: payload[other.start..<(other.start + other.count)])
                        .elementsEqual(bytes)
                {
                    return
                }
            }
            self.hashes.append(hash)
            self.spans.append(span)
        }

        func strings(_ payload: UnsafeBufferPointer<UInt8>) -> [String] {
            self.spans.compactMap {
                String(
                    validating: UnsafeBufferPointer(rebasing: payload[$0.start..<($0.start + $0.count)]),
                    as: UTF8.self
                )
            }
        }
    }
}

/// One row of the catalogue: a field key, a program or a source that some stored event has.
struct CatalogueName: Hashable, Sendable {
    var kind: String
    var name: String

    init(_ kind: String, _ name: String) {
        self.kind = kind
        self.name = name
    }
}
