import Foundation

// MARK: - JSON lines

extension LineParser {
    /// Keys whose value is the event time, first present wins.
    static let jsonTimeKeys = ["ts", "time", "timestamp", "@timestamp", "datetime", "date"]
    /// Keys whose string value is the user, first present wins (then a nested `user.name`).
    static let jsonUserKeys = ["user", "username", "user_name", "userName", "usr", "actor"]
    /// Keys whose string value is the source address, first present wins.
    static let jsonSourceIPKeys = ["src_ip", "source_ip", "client_ip", "clientIp", "ip", "remote_addr", "ip_address"]
    /// Keys whose value is a level name mapped to `severity`.
    static let jsonLevelKeys = ["level", "severity"]

    /// Parses a line that is a JSON object, or returns nil.
    ///
    /// Top-level keys become fields in key order (sorted, since JSON objects are unordered): strings as they
    /// are, numbers, booleans and null as their JSON text, nested objects and arrays as compact JSON. The standard
    /// keys `user`, `src_ip` and `severity` are added from their aliases when the line has no top-level key of
    /// exactly that name; a `user` that is an object with a string `name` becomes that name, its JSON kept as
    /// `user_json`.
    func parseJSON(_ line: [UInt8], observedNanos: Int64) -> ParsedLine? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line), options: []) as? [String: Any]
        else { return nil }
        var fields = FieldList()
        var values: [String: String] = [:]
        for key in object.keys {
            if let value = object[key].flatMap(Self.jsonText) { values[key] = value }
        }

        var derived: [(String, String)] = []
        var userObjectJSON: String?
        if object["user"] as? String == nil {
            let nestedName = (object["user"] as? [String: Any])?["name"] as? String
            if let user = Self.jsonUserKeys.dropFirst().lazy.compactMap({ object[$0] as? String }).first ?? nestedName {
                derived.append(("user", user))
                if object["user"] != nil { userObjectJSON = values["user"] }
            }
        }
        if object["src_ip"] == nil, let ip = Self.jsonSourceIPKeys.lazy.compactMap({ object[$0] as? String }).first {
            derived.append(("src_ip", ip))
        }
        if let severity = Self.jsonLevelKeys.lazy.compactMap({ object[$0] }).first.flatMap(Self.severityKeyword) {
            if object["severity"] as? String != severity {
                derived.append(("severity", severity))
            }
        }
        for (key, value) in derived { fields.add(key, value) }
        if let userObjectJSON { fields.add("user_json", userObjectJSON) }
        for key in values.keys.sorted() {
            if key == "user", userObjectJSON != nil { continue }
            if key == "severity", fields.contains("severity") { continue }
            if let value = values[key] { fields.add(key, value) }
        }

        let timeValue = Self.jsonTimeKeys.lazy.compactMap { object[$0] }.first
        let timeNanos = timeValue.flatMap { self.jsonTime($0, observedNanos: observedNanos) }
        return ParsedLine(timeNanos: timeNanos, fields: fields.fields, format: .json)
    }

    /// A JSON value as field text: strings as they are, everything else as compact JSON.
    static func jsonText(_ value: Any) -> String? {
        if let string = value as? String { return string }
        if value is NSNull { return "null" }
        if let number = value as? NSNumber, Self.isBoolean(number) { return number.boolValue ? "true" : "false" }
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: value,
                options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]
            )
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// A time value: an RFC 3339 / ISO 8601 string, or a number of seconds (ms above 1e12, µs above 1e14,
    /// ns above 1e17).
    func jsonTime(_ value: Any, observedNanos: Int64) -> Int64? {
        if let string = value as? String {
            let bytes = Array(string.utf8)
            return bytes.withUnsafeBufferPointer { buffer in
                var index = 0
                guard let stamp = CivilTime.parseISO(buffer, &index), index == buffer.count else { return nil }
                return self.nanos(of: stamp, observedNanos: observedNanos)
            }
        }
        guard let number = value as? NSNumber, !Self.isBoolean(number) else { return nil }
        let double = number.doubleValue
        // Bounded before any integer conversion: Int64(_: Double) traps outside its range.
        guard double.isFinite, double >= 0, double < 9.2e18 else { return nil }
        if double > 1e17 { return number.int64Value }
        let integral = number.int64Value
        if Double(integral) == double {
            // Integers stay exact (a Double would round milliseconds to the nearest 64 ns).
            let scale: Int64 = double > 1e14 ? 1_000 : double > 1e12 ? 1_000_000 : 1_000_000_000
            let (nanos, overflow) = integral.multipliedReportingOverflow(by: scale)
            return overflow ? nil : nanos
        }
        let nanos: Double
        if double > 1e14 {
            nanos = double * 1e3
        } else if double > 1e12 {
            nanos = double * 1e6
        } else {
            // Whole seconds exactly, the fraction rounded to the nanosecond.
            let whole = double.rounded(.down)
            guard whole < 9e9 else { return nil }
            return Int64(whole) * 1_000_000_000 + Int64(((double - whole) * 1e9).rounded())
        }
        guard nanos < 9.2e18 else { return nil }
        return Int64(nanos)
    }

    /// JSONSerialization hands `true`/`false` out as NSNumbers of Objective-C type `c`; numbers never get it.
    static func isBoolean(_ number: NSNumber) -> Bool {
        number.objCType.pointee == CChar(UInt8(ascii: "c"))
    }

    /// The severity keyword for a level name (`warn`, `ERROR`, `fatal`, …) or a syslog number 0–7.
    static func severityKeyword(_ value: Any) -> String? {
        if let number = value as? NSNumber, !Self.isBoolean(number) {
            let level = number.doubleValue
            guard level >= 0, level <= 7, level == level.rounded() else { return nil }
            return severityNames[Int(level)]
        }
        guard let name = (value as? String)?.lowercased() else { return nil }
        switch name {
        case "emerg", "emergency", "panic": return "emerg"
        case "alert": return "alert"
        case "crit", "critical", "fatal": return "crit"
        case "err", "error", "eror": return "err"
        case "warn", "warning": return "warning"
        case "notice": return "notice"
        case "info", "information", "informational": return "info"
        case "debug", "trace", "dbg", "verbose": return "debug"
        default: return nil
        }
    }
}
