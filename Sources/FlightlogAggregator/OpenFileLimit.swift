import FlightlogSystem
import Foundation
import Glibc

/// How many agent connections `flightlog serve` can hold, given the process's open-file limit.
///
/// Every connection is a file descriptor. Debian's default soft limit is 1,024 (also what systemd gives a service
/// unless `LimitNOFILE=` says otherwise), so a fleet of 2,000 agents would run out of them. `accept(2)` then fails
/// with EMFILE, and SwiftNIO backs off and retries without a word: the agents past the limit wait in the kernel's
/// backlog with no answer until their own timeouts, while the aggregator's log and counters show nothing.
///
/// ``prepare(maxConnections:)`` therefore raises the soft limit towards what `maxConnections` needs (never above
/// the hard limit, never lowering it), and when the hard limit is too low it lowers the number of connections
/// served instead, so that the agents past it get a `serverBusy` error at once and retry with backoff.
public struct OpenFileLimit: Sendable, Equatable {
    /// Descriptors kept free beyond those open at start: the readers' and the indexer's database files, SQLite's
    /// temporary files, the status file, and the short-lived connections that are refused with `serverBusy`.
    public static let headroom = 64

    /// The soft limit before and after ``prepare(maxConnections:)``.
    public var previousSoft: UInt64
    public var soft: UInt64
    /// The hard limit (the ceiling for the soft one without privileges).
    public var hard: UInt64
    /// Descriptors open when the limit was taken.
    public var inUse: Int
    /// The connections asked for.
    public var requested: Int
    /// The connections that fit: `requested`, or fewer when the hard limit leaves no room for them.
    public var connections: Int

    /// Raises the soft open-file limit so that `maxConnections` connections fit, as far as the hard limit allows,
    /// and returns what fits. Call it once the database is open (its files count as in use).
    public static func prepare(maxConnections: Int) -> OpenFileLimit {
        let inUse = Self.descriptorsInUse()
        guard let limit = OpenFileLimits.current() else {
            // No limit to read: nothing to adjust; serve what was asked.
            return OpenFileLimit(
                previousSoft: UInt64.max,
                soft: UInt64.max,
                hard: UInt64.max,
                inUse: inUse,
                requested: maxConnections,
                connections: maxConnections
            )
        }
        let previousSoft = limit.soft
        let hard = limit.hard
        let needed = UInt64(inUse + Self.headroom) + UInt64(max(maxConnections, 0))
        var soft = previousSoft
        if soft < needed {
            if let raised = OpenFileLimits.setSoft(min(needed, hard)) { soft = raised }
        }
        let room = soft >= UInt64(Int.max) ? Int.max : Int(soft) - inUse - Self.headroom
        return OpenFileLimit(
            previousSoft: previousSoft,
            soft: soft,
            hard: hard,
            inUse: inUse,
            requested: maxConnections,
            connections: max(1, min(maxConnections, room))
        )
    }

    /// Whether fewer connections are served than were asked for.
    public var isShort: Bool { self.connections < self.requested }

    /// A line for the log when the limit was raised or falls short; nil when nothing changed.
    public var report: String? {
        if self.isShort {
            return "The open-file limit (soft \(Self.describe(self.soft)), hard \(Self.describe(self.hard)), "
                + "\(self.inUse) in use) leaves room for \(self.connections) connections, not the "
                + "\(self.requested) of --max-connections: agents past \(self.connections) are refused with "
                + "serverBusy and retry. Raise the hard limit (systemd: LimitNOFILE=; a shell: ulimit -Hn) to at "
                + "least \(self.requested + self.inUse + Self.headroom)."
        }
        if self.soft != self.previousSoft {
            return "Raised the open-file limit from \(Self.describe(self.previousSoft)) to "
                + "\(Self.describe(self.soft)) for up to \(self.connections) connections."
        }
        return nil
    }

    private static func describe(_ value: UInt64) -> String {
        value == UInt64(rlim_t.max) ? "unlimited" : String(value)
    }

    /// The entries of /proc/self/fd (one of them the directory being read), or a guess where /proc is missing.
    private static func descriptorsInUse() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 32
    }
}
