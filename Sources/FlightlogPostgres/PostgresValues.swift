import FlightlogWire
import Foundation

extension Bytes32 {
    /// The 32 bytes as a BYTEA value.
    var data: Data { Data(self.bytes) }

    /// Nil for a NULL or a value that is not 32 bytes.
    init?(data: Data?) {
        guard let data else { return nil }
        self.init(data)
    }
}
