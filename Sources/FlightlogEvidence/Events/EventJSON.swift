import FlightlogWire
import Foundation

/// The JSON object of one event, as `query --format jsonl`, `timesketch` and `export` write it.
///
/// ```
/// {"id":…,"time":"…","received":"…","observed":"…","host":…,"agent":…,"source":…,"process.name":…,
///  "process.pid":…,"user.name":…,"source.ip":…,"log.syslog.severity.name":…,"time_from_line":true|false,
///  "message":"raw line",["message_b64":"…",]"fields":{"user.name":"value","repeated":["first","second"],…},
///  "batch":{"agent":…,"epoch":…,"seq":…,"index":…}}
/// ```
///
/// The record's own keys (`id` to `source`, `time_from_line`, `message`, `batch`) say what Flightlog knows of the
/// event; the parsed columns and the `fields` keys use their Elastic Common Schema names (``FieldSchema``, the
/// `layout` `.current`). Evidence bundles of earlier formats used the stored names (`program`, `user`, `ip`…), and
/// their verification rebuilds those objects with the layout they were written in.
///
/// `epoch` and `seq` are the unsigned 64-bit values (PROTOCOL.md §8), written in full.
///
/// `message` is the raw line; when it is not valid UTF-8, `message` carries it with U+FFFD replacements and
/// `message_b64` the exact bytes. Timesketch's form puts `message`, `datetime` and `timestamp_desc` first.
public enum EventJSON {
    /// Which flavour of object to write.
    public enum Style: Sendable {
        case plain
        /// Timesketch JSONL import: `datetime` and `timestamp_desc` describe the chosen clock.
        case timesketch(clock: EventClock)
    }

    /// The names and shape an object is written in.
    public enum Layout: Sendable {
        /// ECS names, repeated keys grouped: what this release writes.
        case current
        /// The stored names (`program`, `user`, `ip`…), repeated keys grouped: `flightlog-evidence-bundle-3`.
        case storedNames
        /// The stored names, repeated keys written repeated: `flightlog-evidence-bundle-2`.
        case storedNamesRepeatingKeys

        /// The keys of the parsed columns: process name, pid, user, source IP, severity.
        var columnKeys: (program: String, pid: String, user: String, ip: String, severity: String) {
            switch self {
            case .current: ("process.name", "process.pid", "user.name", "source.ip", "log.syslog.severity.name")
            case .storedNames, .storedNamesRepeatingKeys: ("program", "pid", "user", "ip", "severity")
            }
        }
    }

    /// Appends the object for `event`, without a newline, in `layout`: its `fields` renamed and with repeated keys
    /// grouped into arrays (``FieldsJSON/appendForOutput(_:names:to:)``), or as an earlier bundle format wrote them.
    public static func append(
        _ event: EventRecord,
        style: Style = .plain,
        times: TimeFormatter = .utc,
        layout: Layout = .current,
        to out: inout [UInt8]
    ) {
        var first = true
        func key(_ name: String) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            out += name.utf8
            out += [UInt8(ascii: "\""), UInt8(ascii: ":")]
        }
        func string(_ name: String, _ value: String?) {
            key(name)
            if let value { FieldsJSON.appendString(value, to: &out) } else { out += "null".utf8 }
        }
        func number(_ name: String, _ value: Int64?) {
            key(name)
            out += (value.map { String($0) } ?? "null").utf8
        }
        let text = String(validating: event.line, as: UTF8.self)
        let message = text ?? String(decoding: event.line, as: UTF8.self)
        if case .timesketch(let clock) = style {
            string("message", message)
            string("datetime", times.format(event.time(on: clock)))
            string("timestamp_desc", clock == .event ? "Event Time" : "Received Time")
        }
        number("id", event.id)
        string("time", times.format(event.timeNanos))
        string("received", times.format(event.receivedNanos))
        string("observed", times.format(event.observedNanos))
        string("host", event.host)
        string("agent", event.agent)
        string("source", event.source)
        let columns = layout.columnKeys
        string(columns.program, event.program)
        number(columns.pid, event.pid)
        string(columns.user, event.user)
        string(columns.ip, event.sourceIP)
        string(columns.severity, event.severity)
        key("time_from_line")
        out += (event.flags.contains(.timeFromLine) ? "true" : "false").utf8
        if case .plain = style { string("message", message) }
        if text == nil { string("message_b64", Data(event.line).base64EncodedString()) }
        key("fields")
        var fields = event.fieldsJSON
        switch layout {
        case .current: fields.withUTF8 { FieldsJSON.appendForOutput($0, names: .ecs, to: &out) }
        case .storedNames: fields.withUTF8 { FieldsJSON.appendForOutput($0, names: .stored, to: &out) }
        case .storedNamesRepeatingKeys: out += fields.utf8
        }
        key("batch")
        out += "{\"agent\":".utf8
        FieldsJSON.appendString(event.agent, to: &out)
        out += ",\"epoch\":\(event.epoch),\"seq\":\(event.sequence),\"index\":\(event.index)}}".utf8
    }

    /// The object for `event` as bytes.
    public static func encode(
        _ event: EventRecord,
        style: Style = .plain,
        times: TimeFormatter = .utc,
        layout: Layout = .current
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + event.line.count + event.fieldsJSON.utf8.count)
        Self.append(event, style: style, times: times, layout: layout, to: &out)
        return out
    }
}
