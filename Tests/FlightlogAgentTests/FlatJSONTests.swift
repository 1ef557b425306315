import FlightlogTestSupport
import Foundation
import Testing

@testable import FlightlogAgent

/// The fast JSON path must give exactly what `JSONSerialization` gives, for every line it takes.
@Suite struct FlatJSONTests {
    let parser = LineParser(timeZone: TimeZone(identifier: "Europe/Berlin") ?? .current)
    let observed: Int64 = 1_795_521_600_000_000_000

    /// Both paths on one line: equal results whenever the fast path takes the line.
    @discardableResult
    func compare(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let bytes = Array(line.utf8)
        let reference = self.parser.parseJSONSerialization(bytes, observedNanos: self.observed)
        guard let members = bytes.withUnsafeBufferPointer(FlatJSON.parse) else { return false }
        let fast = self.parser.parseFlatJSON(members, observedNanos: self.observed)
        #expect(fast == reference, "\(line)", sourceLocation: sourceLocation)
        return true
    }

    @Test(arguments: [
        #"{"ts":"2026-11-24T10:00:00.5Z","level":"WARN","username":"mchen","client_ip":"203.0.113.77","msg":"login ok","n":42,"ok":true,"none":null}"#,
        #"{"time":1795514400,"user":"root","src_ip":"10.0.0.1","ip":"10.9.9.9"}"#,
        #"{"timestamp":1795514400123,"user":5,"usr":"mchen"}"#,
        #"{"timestamp":1795514400123456,"user":null,"actor":"svc","severity":"error"}"#,
        #"{"@timestamp":"2026-11-24T11:00:00+01:00","severity":"error","actor":"svc"}"#,
        #"{"date":"2026-11-24 10:00:00","remote_addr":"2001:db8::1","level":3}"#,
        #"{"ts":1795514400000000000,"msg":"ns"}"#,
        #"{"ts":999999999999999999,"msg":"18 digits"}"#,
        #"{"ts":123456789012345678,"level":7,"severity":"debug"}"#,
        #"{"ts":-5,"time":"yesterday","level":true}"#,
        #"{"level":8}"#, #"{"level":-1}"#, #"{"level":0}"#, #"{"level":1}"#, #"{"level":false}"#,
        #"{"level":null,"severity":"warn"}"#, #"{"severity":"warn"}"#, #"{"severity":"WARNING","level":"warn"}"#,
        #"{"severity":4,"level":"warn"}"#, #"{"src_ip":null,"ip":"1.2.3.4"}"#, #"{"src_ip":7,"clientIp":"1.2.3.4"}"#,
        #"{"user":true,"user_name":"x","user_json":"kept"}"#, #"{"user":"","username":"x"}"#,
        #"{"":1,"a":"","b":"é ü ✓ 𝄞","c":"\u0041"}"#, #"{}"#, #" { } "#, "{\"a\":1}\r", "{\"a\":1}\t\n",
        #"{ "ts" : 1795514400 , "msg" : "spaced" }"#, #"{"ts":0}"#, #"{"ts":1e3}"#, #"{"ts":1.5}"#,
        #"{"ts":01}"#, #"{"ts":-0}"#, #"{"a":1,"a":2}"#, #"{"a":[1,2]}"#, #"{"a":{"b":1}}"#, #"{"a":1,}"#,
        #"{"a":1}x"#, #"{"a":tru}"#, #"{"a":truex}"#, #"{"a" 1}"#, #"{"a":"x\"y"}"#, #"{"a":"unterminated}"#,
        #"{"time":1795514400,"datetime":"2026-11-24T10:00:00Z"}"#, #"{"datetime":"2026-11-24T10:00:00"}"#,
        #"{"date":"2026-11-24T10:00:00.123456789+05:30","ts":null}"#,
    ])
    func agreesWithJSONSerialization(_ line: String) {
        self.compare(line)
    }

    @Test func takesTheUsualShape() {
        #expect(self.compare(#"{"ts":"2026-11-24T10:00:00.5Z","level":"info","user":"a","rows":12}"#))
        #expect(!self.compare(#"{"a":{"b":1}}"#))
        #expect(!self.compare(#"{"a":"x\ny"}"#))
    }

    @Test func invalidUTF8IsLeftToJSONSerialization() {
        let bytes = Array(#"{"a":""#.utf8) + [0xFF] + Array(#""}"#.utf8)
        #expect(bytes.withUnsafeBufferPointer(FlatJSON.parse) == nil)
        #expect(self.parser.parse(bytes, observedNanos: self.observed).format == .raw)
    }

    /// Random flat objects, then random byte edits of them: wherever the fast path answers, it agrees.
    @Test func randomLinesAgree() async {
        await offThePool {
            var random = SeededGenerator(state: 2026)
            let keys = [
                "ts", "time", "timestamp", "@timestamp", "datetime", "date", "user", "username", "user_name",
                "userName",
                "usr", "actor", "src_ip", "source_ip", "client_ip", "clientIp", "ip", "remote_addr", "ip_address",
                "level", "severity", "msg", "rows", "", "Z", "a_b", "user_json", "x y",
            ]
            let strings = [
                "", "info", "WARN", "Error", "fatal", "trace", "7", "mchen", "203.0.113.9", "2026-11-24T10:00:00Z",
                "2026-11-24T10:00:00.25+01:00", "2026-11-24 10:00:00", "2026-02-30T10:00:00Z", "é", "ünïcödé ✓",
                String(repeating: "long ", count: 2000),
            ]
            let numbers = [
                "0", "1", "3", "7", "8", "-1", "-7", "42", "1795514400", "1795514400123", "1795514400123456",
                "1795514400123456789", "999999999999999999", "99999999999999999", "9007199254740993", "1e3", "1.5",
                "-0", "00",
            ]
            let edits: [UInt8] = Array(#"{}[]",:\ 0.-e"#.utf8) + [0x00, 0x0A, 0x7F, 0xC3, 0xFF]
            var taken = 0
            for _ in 0..<4_000 {
                var members: [String] = []
                for _ in 0..<Int.random(in: 0...7, using: &random) {
                    let key = keys.randomElement(using: &random) ?? "k"
                    let value: String
                    switch Int.random(in: 0..<5, using: &random) {
                    case 0, 1: value = "\"\(strings.randomElement(using: &random) ?? "")\""
                    case 2: value = numbers.randomElement(using: &random) ?? "0"
                    case 3: value = ["true", "false", "null"].randomElement(using: &random) ?? "null"
                    default: value = "\"\(Int.random(in: 0..<1000, using: &random))\""
                    }
                    members.append("\"\(key)\":\(value)")
                }
                let line = "{" + members.joined(separator: ",") + "}"
                if self.compare(line) { taken += 1 }
                var bytes = Array(line.utf8)
                for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    let edit = edits.randomElement(using: &random) ?? 0
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: bytes[at] = edit
                    case 1: bytes.insert(edit, at: at)
                    default: bytes.remove(at: at)
                    }
                }
                let reference = self.parser.parseJSONSerialization(bytes, observedNanos: self.observed)
                if let fast = bytes.withUnsafeBufferPointer(FlatJSON.parse) {
                    #expect(self.parser.parseFlatJSON(fast, observedNanos: self.observed) == reference)
                }
            }
            #expect(taken > 1_000)
        }
    }
}
