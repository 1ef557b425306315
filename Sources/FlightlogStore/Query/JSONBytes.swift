import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// JSON pieces written straight into a byte buffer.
struct JSONBytes {
    let times: TimeFormatter

    static let hex: StaticString = "0123456789abcdef"

    /// A column as a JSON string, or `null`.
    static func text(_ row: SQLiteStatement, _ index: Int32, to out: inout [UInt8]) {
        if sqlite3_column_type(row, index) == SQLITE_NULL {
            out += "null".utf8
        } else {
            Self.string(RawColumn.bytes(row, index), to: &out)
        }
    }

    /// `bytes` (valid UTF-8) quoted and escaped as ``FieldsJSON/appendString(_:to:)`` does.
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var start = 0
        for (offset, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == 0x5C {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<offset]))
            start = offset + 1
            switch byte {
            case UInt8(ascii: "\""): out += [0x5C, UInt8(ascii: "\"")]
            case 0x5C: out += [0x5C, 0x5C]
            case UInt8(ascii: "\n"): out += [0x5C, UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [0x5C, UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [0x5C, UInt8(ascii: "t")]
            default:
                out += [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")]
                Self.hex.withUTF8Buffer { digits in
                    out.append(digits[Int(byte >> 4)])
                    out.append(digits[Int(byte & 0xf)])
                }
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        out.append(UInt8(ascii: "\""))
    }

    static func unsigned(_ value: UInt64, to out: inout [UInt8]) {
        out += String(value).utf8
    }

    static func integer(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            guard value != .min else {
                out += "9223372036854775808".utf8
                return
            }
        }
        Timestamp.appendDigits(Int64(value.magnitude), width: 1, to: &out)
    }

    /// A quoted RFC 3339 time, as ``TimeFormatter/format(_:)`` writes it.
    func time(_ nanos: Int64, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        if self.times.zone != nil {
            out += self.times.format(nanos).utf8
        } else {
            Timestamp.appendRFC3339(nanos, to: &out)
        }
        out.append(UInt8(ascii: "\""))
    }
}
