import Foundation

/// Writing to standard output and standard error without the C globals Swift 6 rejects.
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("flightlog: " + text + "\n").utf8))
    }

    /// Lays rows out in columns, the first row being the header.
    static func table(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// Current wall-clock time in ns since the Unix epoch.
func nowNanos() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1_000_000_000)
}
