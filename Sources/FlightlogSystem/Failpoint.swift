import Glibc
import Synchronization

/// Named points where a test can have its own process killed with SIGKILL, to prove that a crash exactly there
/// loses and duplicates nothing (RELIABILITY.md, issue 21).
///
/// Compiled into debug builds only (`FLIGHTLOG_FAILPOINTS`, Package.swift): the tests run the debug executables;
/// a release build holds no failpoint and never reads the variables below.
///
/// `FLIGHTLOG_FAILPOINT=NAME` kills the process at the first hit of `NAME`, `NAME@N` at the N-th. Before dying it
/// writes `NAME` to the file `FLIGHTLOG_FAILPOINT_MARK` (when set), so that the test can assert that the point was
/// reached rather than that the process merely died.
///
/// `FLIGHTLOG_FAILPOINT_ERROR=NAME@N:K` makes ``fails(_:)`` answer true at the N-th to the (N+K−1)-th hit of `NAME`:
/// an error the system would report (an fsync that fails, which tmpfs never does) injected where the code asks.
public enum Failpoint {
    #if FLIGHTLOG_FAILPOINTS
    private static let armed: (name: String, hit: Int, mark: String?)? = {
        guard let raw = getenv("FLIGHTLOG_FAILPOINT").map({ String(cString: $0) }), !raw.isEmpty else { return nil }
        let parts = raw.split(separator: "@", maxSplits: 1)
        let hit = parts.count == 2 ? Int(parts[1]) ?? 1 : 1
        return (String(parts[0]), max(1, hit), getenv("FLIGHTLOG_FAILPOINT_MARK").map { String(cString: $0) })
    }()
    private static let hits = Atomic<Int>(0)
    private static let failing: (name: String, first: Int, count: Int)? = {
        guard let raw = getenv("FLIGHTLOG_FAILPOINT_ERROR").map({ String(cString: $0) }), !raw.isEmpty else {
            return nil
        }
        let parts = raw.split(separator: "@", maxSplits: 1)
        let range = parts.count == 2 ? parts[1].split(separator: ":", maxSplits: 1) : []
        let first = range.first.flatMap { Int($0) } ?? 1
        let count = range.count == 2 ? Int(range[1]) ?? 1 : 1
        return (String(parts[0]), max(1, first), max(1, count))
    }()
    private static let failingHits = Atomic<Int>(0)
    #endif

    /// Whether the operation at `name` must fail this time (see `FLIGHTLOG_FAILPOINT_ERROR`); always false in a
    /// release build.
    @inline(__always)
    public static func fails(_ name: StaticString) -> Bool {
        #if FLIGHTLOG_FAILPOINTS
        guard let failing = Self.failing, failing.name == name.description else { return false }
        let count = Self.failingHits.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
        return count >= failing.first && count < failing.first + failing.count
        #else
        return false
        #endif
    }

    /// Whether a test asked this process to kill itself or fail at `name`: lets the code set up what injecting there
    /// needs (a wrapping VFS, say) only when asked; always false in a release build.
    public static func isArmed(_ name: StaticString) -> Bool {
        #if FLIGHTLOG_FAILPOINTS
        return Self.armed?.name == name.description || Self.failing?.name == name.description
        #else
        return false
        #endif
    }

    /// The point `name` is reached.
    @inline(__always)
    public static func hit(_ name: StaticString) {
        #if FLIGHTLOG_FAILPOINTS
        guard let armed = Self.armed, armed.name == name.description else { return }
        let count = Self.hits.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
        guard count == armed.hit else { return }
        if let mark = armed.mark {
            let fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd >= 0 {
                _ = armed.name.withCString { write(fd, $0, strlen($0)) }
                fsync(fd)
                close(fd)
            }
        }
        kill(getpid(), SIGKILL)
        #endif
    }
}
