import Foundation

/// Real systemd journal files for the tests, written by `systemd-journal-remote` (package systemd-journal-remote,
/// installed by scripts/deps.sh) from journal export format
/// (https://systemd.io/JOURNAL_EXPORT_FORMATS/): the same files journald writes, read back through libsystemd.
public enum JournalFiles {
    /// One entry: its fields in order (`__REALTIME_TIMESTAMP`, `__MONOTONIC_TIMESTAMP` and `_BOOT_ID` are added when
    /// missing).
    public struct Entry: Sendable {
        public var fields: [(name: String, value: [UInt8])]

        public init(_ fields: [(String, String)]) {
            self.fields = fields.map { ($0.0, Array($0.1.utf8)) }
        }

        public init(bytes fields: [(String, [UInt8])]) {
            self.fields = fields.map { ($0.0, $0.1) }
        }
    }

    public static let boot = "0123456789abcdef0123456789abcdef"

    /// The tool, where Debian installs it.
    public static let remoteTool = "/lib/systemd/systemd-journal-remote"

    /// The export-format bytes of `entries`; entry `n` without a time gets `firstMicros + n`.
    public static func export(_ entries: [Entry], firstMicros: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        for (index, entry) in entries.enumerated() {
            var fields = entry.fields
            if !fields.contains(where: { $0.name == "__REALTIME_TIMESTAMP" }) {
                fields.insert(("__REALTIME_TIMESTAMP", Array(String(firstMicros + UInt64(index)).utf8)), at: 0)
            }
            if !fields.contains(where: { $0.name == "_BOOT_ID" }) { fields.append(("_BOOT_ID", Array(Self.boot.utf8))) }
            // Within a boot sd-journal orders entries of different files by their monotonic time, as journald
            // writes it: rising with the real time (since a boot in 2023), never all zero.
            if !fields.contains(where: { $0.name == "__MONOTONIC_TIMESTAMP" }),
                let realtime = fields.first(where: { $0.name == "__REALTIME_TIMESTAMP" })
                    .flatMap({ UInt64(String(decoding: $0.value, as: UTF8.self)) })
            {
                let monotonic = realtime > 1_700_000_000_000_000 ? realtime - 1_700_000_000_000_000 : realtime
                fields.insert(("__MONOTONIC_TIMESTAMP", Array(String(monotonic).utf8)), at: 1)
            }
            for (name, value) in fields {
                out += name.utf8
                if value.contains(UInt8(ascii: "\n")) || value.contains(where: { $0 < 0x20 && $0 != 9 }) {
                    // Binary form: the name, a newline, the length as little-endian 64 bits, the bytes.
                    out.append(UInt8(ascii: "\n"))
                    withUnsafeBytes(of: UInt64(value.count).littleEndian) { out += $0 }
                    out += value
                } else {
                    out.append(UInt8(ascii: "="))
                    out += value
                }
                out.append(UInt8(ascii: "\n"))
            }
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Appends `entries` to the journal file `path` (created when missing; the name must end in `.journal`).
    /// Entries appended to an existing file continue its sequence numbers.
    public static func append(_ entries: [Entry], to path: String, firstMicros: UInt64) throws {
        let input = path + ".export-" + UUID().uuidString
        try Data(Self.export(entries, firstMicros: firstMicros)).write(to: URL(fileURLWithPath: input))
        defer { try? FileManager.default.removeItem(atPath: input) }
        let result = try Subprocess.run(Self.remoteTool, ["--output=" + path, "--split-mode=none", input])
        guard result.status == 0 else {
            throw SubprocessError("systemd-journal-remote failed (\(result.status)): \(result.stderr)")
        }
    }

    /// Microseconds since the Unix epoch now.
    public static func nowMicros() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1_000_000)
    }
}
