import ArgumentParser
import FlightlogEvidence
import FlightlogStore
import Foundation
import Glibc

/// A one-line progress bar on standard error, redrawn at most ten times a second.
final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date.distantPast

    func update(_ done: Int, _ total: Int) {
        self.lock.lock()
        defer { self.lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(self.last) >= 0.1 || done == total else { return }
        self.last = now
        let width = 40
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) batches".utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
