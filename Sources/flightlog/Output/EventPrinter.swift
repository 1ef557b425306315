import ArgumentParser
import FlightlogEvidence
import FlightlogStore
import FlightlogWire
import Foundation

/// Writes events one at a time in the chosen format through a buffered writer.
struct EventPrinter {
    let format: EventFormat
    let times: TimeFormatter
    let clock: EventQuery.Clock
    let out: BufferedWriter
    /// Terminal width when standard output is a TTY: the table then fits it.
    let width: Int?
    /// Disables the spreadsheet-formula guard on CSV cells.
    let csvRaw: Bool

    static let csvHeader = [
        "id", "time", "received", "host", "agent", "source", "process.name", "process.pid", "user.name", "source.ip",
        "log.syslog.severity.name", "message", "fields", "epoch", "seq", "index",
    ]

    func header() {
        switch self.format {
        case .table:
            self.out.write(self.tableLine(["ID", "TIME", "HOST", "USER", "PROGRAM", "MESSAGE"]))
        case .csv:
            self.out.write(Self.csvHeader.joined(separator: ",") + "\r\n")
        case .jsonl, .timesketch:
            break
        }
    }

    func print(_ event: EventRecord) {
        switch self.format {
        case .jsonl:
            var bytes = EventJSON.encode(event, times: self.times)
            bytes.append(UInt8(ascii: "\n"))
            self.out.write(bytes)
        case .timesketch:
            var bytes = EventJSON.encode(event, style: .timesketch(clock: self.clock), times: self.times)
            bytes.append(UInt8(ascii: "\n"))
            self.out.write(bytes)
        case .csv:
            let cells: [String?] = [
                String(event.id), self.times.format(event.timeNanos), self.times.format(event.receivedNanos),
                event.host, event.agent, event.source, event.program, event.pid.map { String($0) }, event.user,
                event.sourceIP, event.severity, String(decoding: event.line, as: UTF8.self),
                FieldsJSON.forOutput(event.fieldsJSON),
                String(event.epoch), String(event.sequence), String(event.index),
            ]
            self.out.write(cells.map { self.csvCell($0 ?? "") }.joined(separator: ",") + "\r\n")
        case .table:
            self.out.write(
                self.tableLine([
                    String(event.id), self.times.format(event.time(on: self.clock)), event.host, event.user ?? "-",
                    event.program ?? "-", event.displayedLine,
                ])
            )
        }
    }

    /// RFC 4180 quoting; a cell a spreadsheet would run as a formula gets a leading `'` unless `--csv-raw`.
    func csvCell(_ text: String) -> String {
        var value = text
        if !self.csvRaw, let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            value = "'" + value
        }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: - Table

    /// Column widths: id, time, host, user, program; the message takes the rest.
    private var widths: [Int] {
        [8, self.times.zone == nil ? 30 : 35, 14, 10, 12]
    }

    func tableLine(_ cells: [String]) -> String {
        var parts: [String] = []
        for (index, width) in self.widths.enumerated() where index < cells.count {
            parts.append(Self.fit(Self.printable(cells[index]), width))
        }
        var message = Self.printable(cells.last ?? "")
        if let width = self.width {
            let used = self.widths.reduce(0, +) + 2 * self.widths.count
            message = Self.truncate(message, max(10, width - used))
        }
        parts.append(message)
        return parts.joined(separator: "  ") + "\n"
    }

    /// Control characters (terminal escape sequences among them) shown as `?`: log lines are attacker-controlled.
    static func printable(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map {
                    $0.value < 0x20 || ($0.value >= 0x7f && $0.value < 0xa0) ? "?" : $0
                }
            )
        )
    }

    static func truncate(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(max(0, width - 1))) + "…"
    }

    static func fit(_ text: String, _ width: Int) -> String {
        let cut = Self.truncate(text, width)
        return cut + String(repeating: " ", count: max(0, width - cut.count))
    }
}
