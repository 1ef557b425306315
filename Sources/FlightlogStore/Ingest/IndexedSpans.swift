import FlightlogEvidence
import FlightlogWire

/// ``IndexedColumns`` of an event read in place from its batch payload (see ``EventLayout``): where each value lies.
///
/// The keys are compared byte for byte. `IndexedColumns` compares them as `String`s (canonical equivalence), which
/// agrees here: no other Unicode sequence is canonically equivalent to these lowercase ASCII names.
struct IndexedSpans: Sendable {
    var program: EventLayout.Span?
    var pid: Int64?
    var user: EventLayout.Span?
    var sourceIP: EventLayout.Span?
    var severity: EventLayout.Span?

    init(_ layout: EventLayout, _ entry: EventLayout.Entry) {
        for index in entry.fieldRange {
            let field = layout.fields[index]
            switch field.key.count {
            case 3:
                // As `IndexedColumns`: the first `pid` whose value parses (a short string: no allocation).
                if self.pid == nil, layout.span(field.key, equals: "pid") {
                    self.pid = Int64(layout.string(field.value))
                }
            case 4:
                if self.user == nil, layout.span(field.key, equals: "user") { self.user = field.value }
            case 6:
                if self.sourceIP == nil, layout.span(field.key, equals: "src_ip") { self.sourceIP = field.value }
            case 7:
                if self.program == nil, layout.span(field.key, equals: "program") { self.program = field.value }
            case 8:
                if self.severity == nil, layout.span(field.key, equals: "severity") { self.severity = field.value }
            default: break
            }
        }
    }
}
