import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// JSON pieces written straight into a byte buffer.
struct JSONBytes {
    let times: TimeFormatter

    /// A column as a JSON string, or `null`.
    static func text(_ row: SQLiteStatement, _ index: Int32, to out: inout [UInt8]) {
        if sqlite3_column_type(row, index) == SQLITE_NULL {
            out += "null".utf8
        } else {
            Self.string(RawColumn.bytes(row, index), to: &out)
        }
    }

    /// `bytes` (valid UTF-8) quoted and escaped by ``FieldsJSON/appendString(_:to:)``, which finds the bytes to
    /// escape 8 at a time: a line is mostly bytes that need none.
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        FieldsJSON.appendString(bytes, to: &out)
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
