import FlightlogWire
import Foundation

/// The JSON object of one event, as `query --format jsonl`, `timesketch` and `export` write it.
///
/// ```
/// {"id":…,"time":"…","received":"…","observed":"…","host":…,"agent":…,"source":…,"program":…,"pid":…,
///  "user":…,"ip":…,"severity":…,"time_from_line":true|false,"message":"raw line",["message_b64":"…",]
///  "fields":{"key":"value","repeated":["first","second"],…},"batch":{"agent":…,"epoch":…,"seq":…,"index":…}}
/// ```
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

    /// Appends the object for `event`, without a newline. Its `fields` group repeated keys into arrays
    /// (``FieldsJSON/appendGroupingRepeatedKeys(_:to:)``); `groupRepeatedKeys: false` writes them repeated, as
    /// evidence bundles before `flightlog-evidence-bundle-3` hold them.
    public static func append(
        _ event: EventRecord,
        style: Style = .plain,
        times: TimeFormatter = .utc,
        groupRepeatedKeys: Bool = true,
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
        string("program", event.program)
        number("pid", event.pid)
        string("user", event.user)
        string("ip", event.sourceIP)
        string("severity", event.severity)
        key("time_from_line")
        out += (event.flags.contains(.timeFromLine) ? "true" : "false").utf8
        if case .plain = style { string("message", message) }
        if text == nil { string("message_b64", Data(event.line).base64EncodedString()) }
        key("fields")
        if groupRepeatedKeys {
            var fields = event.fieldsJSON
            fields.withUTF8 { FieldsJSON.appendGroupingRepeatedKeys($0, to: &out) }
        } else {
            out += event.fieldsJSON.utf8
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
        groupRepeatedKeys: Bool = true
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + event.line.count + event.fieldsJSON.utf8.count)
        Self.append(event, style: style, times: times, groupRepeatedKeys: groupRepeatedKeys, to: &out)
        return out
    }
}
