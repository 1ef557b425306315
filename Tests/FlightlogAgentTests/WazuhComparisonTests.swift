import FlightlogAgent
import FlightlogTestSupport
import Foundation
import Testing

/// The parser against Wazuh's decoders on the log lines of Wazuh's ruleset tests (`ruleset/testing/tests/*.ini`).
///
/// Wazuh is GPL-2.0, so none of its files is in this repository: `Benchmarks/compare-wazuh.sh` takes a Wazuh 4.x
/// checkout, decodes the lines with `Benchmarks/wazuh-decode.py` (an emulation of analysisd's decoding that reads
/// Wazuh's decoder XML at run time) and runs this suite on its output, named by `WAZUH_DECODED`. Without it the suite
/// does not run.
///
/// Compared: Wazuh's `srcip` (when `inet_pton` reads it) with `src_ip`; each of Wazuh's `user`, `srcuser` and
/// `dstuser` with `user` or `target_user` (Wazuh gives the roles different names from decoder to decoder, so a name
/// counts as found in either); for web access logs, `url`, `id` (the status) and `protocol` (the method).
@Suite("Wazuh's ruleset test lines", .enabled(if: ProcessInfo.processInfo.environment["WAZUH_DECODED"] != nil))
struct WazuhComparisonTests {
    /// How a field of ours compares with Wazuh's over some lines.
    struct Tally: CustomStringConvertible {
        var wazuh = 0
        var agreed = 0
        var missing: [String] = []
        var differ: [String] = []
        var more: [String] = []

        var description: String {
            "\(agreed)/\(wazuh) agreed, \(missing.count) missing, \(differ.count) differ, \(more.count) more"
        }
    }

    /// Wazuh's address in the form the agent stores (an IPv4-mapped IPv6 address as IPv4).
    static func unmapped(_ address: String) -> String {
        address.lowercased().hasPrefix("::ffff:") && address.contains(".") ? String(address.dropFirst(7)) : address
    }

    @Test func fieldByField() throws {
        let path = ProcessInfo.processInfo.environment["WAZUH_DECODED"] ?? ""
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        var tallies: [String: [String: Tally]] = [:]
        var lines = 0
        for record in text.split(separator: "\n") {
            guard let entry = try JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Any],
                let file = entry["file"] as? String, let line = entry["line"] as? String,
                let fields = entry["fields"] as? [String: String]
            else { throw TestFailure("not a decoded line: \(record.prefix(200))") }
            lines += 1
            let web = (entry["decoder"] as? String)?.hasPrefix("web-accesslog") == true
            let parsed = parser.parse(Array(line.utf8), observedNanos: 1_550_000_000_000_000_000)
            var perFile = tallies[file] ?? [:]
            func compare(_ name: String, theirs: String?, ours: String?, caseless: Bool = false) {
                var tally = perFile[name] ?? Tally()
                if let theirs {
                    tally.wazuh += 1
                    if let ours, caseless ? ours.lowercased() == theirs.lowercased() : ours == theirs {
                        tally.agreed += 1
                    } else if let ours {
                        tally.differ.append("\(ours) for \(theirs): \(line)")
                    } else {
                        tally.missing.append("\(theirs): \(line)")
                    }
                } else if let ours {
                    tally.more.append("\(ours): \(line)")
                }
                perFile[name] = tally
            }
            let address = fields["srcip"].flatMap { Address.isIP(Self.unmapped($0)) ? Self.unmapped($0) : nil }
            compare("src_ip", theirs: address, ours: parsed[field: "src_ip"])
            let ourNames = [parsed[field: "user"], parsed[field: "target_user"]].compactMap { $0 }
            let theirNames = Set(["user", "srcuser", "dstuser"].compactMap { (key: String) -> String? in fields[key] })
            if theirNames.isEmpty {
                compare("user", theirs: nil, ours: ourNames.first)
            }
            for name in theirNames.sorted() {
                compare("user", theirs: name, ours: ourNames.contains(name) ? name : ourNames.first)
            }
            if web {
                compare("url", theirs: fields["url"], ours: parsed[field: "url"])
                compare("status", theirs: fields["id"], ours: parsed[field: "status"])
                compare("method", theirs: fields["protocol"], ours: parsed[field: "method"], caseless: true)
            }
            tallies[file] = perFile
        }
        var total: [String: Tally] = [:]
        for (file, perFile) in tallies.sorted(by: { $0.key < $1.key }) {
            print("Wazuh \(file):")
            for (name, tally) in perFile.sorted(by: { $0.key < $1.key }) {
                print("  \(name): \(tally)")
                for entry in tally.missing { print("    missing \(entry)") }
                for entry in tally.differ { print("    differs \(entry)") }
                for entry in tally.more { print("    more \(entry)") }
                var sum = total[name] ?? Tally()
                sum.wazuh += tally.wazuh
                sum.agreed += tally.agreed
                sum.missing += tally.missing
                sum.differ += tally.differ
                sum.more += tally.more
                total[name] = sum
            }
        }
        print("Wazuh, \(lines) lines together:")
        for (name, tally) in total.sorted(by: { $0.key < $1.key }) { print("  \(name): \(tally)") }
        #expect(lines > 100, "the decoded lines were read")
        #expect(total["src_ip"]?.differ.isEmpty == true, "\(total["src_ip"]?.differ.prefix(5) ?? [])")
    }
}
