import Foundation

/// An error already explained to the user; the command exits with `code`.
struct ReportedFailure: Error {
    var code: Int32
}
