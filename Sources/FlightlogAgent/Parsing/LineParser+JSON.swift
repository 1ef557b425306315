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
        if let members = line.withUnsafeBufferPointer(FlatJSON.parse) {
            return self.parseFlatJSON(members, observedNanos: observedNanos)
        }
        return self.parseJSONSerialization(line, observedNanos: observedNanos)
    }

    /// ``parseJSON(_:observedNanos:)`` for a line of the shape ``FlatJSON`` reads: the same rules on typed
    /// values (there are no nested objects, so no nested `user.name`).
    func parseFlatJSON(_ members: [(key: String, value: FlatJSON.Value)], observedNanos: Int64) -> ParsedLine {
        func lookup(_ key: String) -> FlatJSON.Value? {
            for member in members where member.key == key { return member.value }
            return nil
        }
        func string(_ key: String) -> String? {
            if case .string(let string)? = lookup(key) { return string }
            return nil
        }
        var fields = FieldList()
        var userObjectJSON: String?
        let userValue = lookup("user")
        if case .string? = userValue {
        } else if let user = Self.jsonUserKeys.dropFirst().lazy.compactMap(string).first {
            fields.add("user", user)
            if let userValue { userObjectJSON = userValue.text }
        }
        if lookup("src_ip") == nil, let ip = Self.jsonSourceIPKeys.lazy.compactMap(string).first {
            fields.add("src_ip", ip)
        }
        if let severity = Self.jsonLevelKeys.lazy.compactMap(lookup).first.flatMap(Self.flatSeverityKeyword) {
            if string("severity") != severity {
                fields.add("severity", severity)
            }
        }
        if let userObjectJSON { fields.add("user_json", userObjectJSON) }
        for member in members.sorted(by: { $0.key < $1.key }) {
            if member.key == "user", userObjectJSON != nil { continue }
            if member.key == "severity", fields.contains("severity") { continue }
            fields.add(member.key, member.value.text)
        }
        let timeNanos = Self.jsonTimeKeys.lazy.compactMap(lookup).first.flatMap {
            self.flatJSONTime($0, observedNanos: observedNanos)
        }
        return ParsedLine(timeNanos: timeNanos, encodedFields: fields.encoded, format: .json)
    }

    /// A flat value's time: an RFC 3339 / ISO 8601 string, or an integer number of seconds, ms, µs or ns, exactly
    /// as `jsonTime` reads the value `JSONSerialization` makes of it.
    func flatJSONTime(_ value: FlatJSON.Value, observedNanos: Int64) -> Int64? {
        switch value {
        case .string(let string): return self.jsonTime(string, observedNanos: observedNanos)
        case .integer(let integral, _):
            let double = Double(integral)
            guard double >= 0, double < 9.2e18 else { return nil }
            if double > 1e17 { return integral }
            let scale: Int64 = double > 1e14 ? 1_000 : double > 1e12 ? 1_000_000 : 1_000_000_000
            let (nanos, overflow) = integral.multipliedReportingOverflow(by: scale)
            return overflow ? nil : nanos
        case .bool, .null: return nil
        }
    }

    /// The severity keyword of a flat value, as `severityKeyword` gives it for the value `JSONSerialization` makes.
    static func flatSeverityKeyword(_ value: FlatJSON.Value) -> String? {
        switch value {
        case .string(let string): return self.severityKeyword(name: string)
        case .integer(let integral, _):
            guard integral >= 0, integral <= 7 else { return nil }
            return severityNames[Int(integral)]
        case .bool, .null: return nil
        }
    }

    /// The full path, through `JSONSerialization`, for every JSON line ``FlatJSON`` does not take.
    func parseJSONSerialization(_ line: [UInt8], observedNanos: Int64) -> ParsedLine? {
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
        return ParsedLine(timeNanos: timeNanos, encodedFields: fields.encoded, format: .json)
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
        if let string = value as? String { return self.jsonTime(string, observedNanos: observedNanos) }
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

    /// An RFC 3339 / ISO 8601 time string.
    func jsonTime(_ string: String, observedNanos: Int64) -> Int64? {
        var string = string
        return string.withUTF8 { buffer in
            var index = 0
            guard let stamp = CivilTime.parseISO(buffer, &index), index == buffer.count else { return nil }
            return self.nanos(of: stamp, observedNanos: observedNanos)
        }
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
        guard let name = value as? String else { return nil }
        return self.severityKeyword(name: name)
    }

    /// The severity keyword for a level name, any case.
    static func severityKeyword(name: String) -> String? {
        switch name.lowercased() {
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
