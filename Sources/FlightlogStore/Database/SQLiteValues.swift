import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

extension UInt64 {
    /// The signed integer with the same bits, as SQLite stores it.
    var sqlValue: Int64 { Int64(bitPattern: self) }
}

extension Int64 {
    var unsignedValue: UInt64 { UInt64(bitPattern: self) }
}

extension Bytes32 {
    var data: Data { Data(self.bytes) }

    init?(data: Data?) {
        guard let data else { return nil }
        self.init(data)
    }
}

extension Data {
    var hexString: String { self.map { $0 }.hexString }
}
