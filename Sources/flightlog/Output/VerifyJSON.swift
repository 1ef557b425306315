import ArgumentParser
import FlightlogEvidence
import FlightlogStore
import Foundation
import Glibc

/// The `--format json` document: the summary, the counts and every finding.
struct JSONReport: Encodable {
    var clean: Bool
    var summary: String
    var report: VerifyReport

    init(_ report: VerifyReport) {
        self.clean = report.isClean
        self.summary = report.summary
        self.report = report
    }
}
