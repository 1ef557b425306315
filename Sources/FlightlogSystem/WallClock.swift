import Glibc

#if FLIGHTLOG_FAILPOINTS
import Synchronization
#endif

/// Wall-clock time in nanoseconds since the Unix epoch.
///
/// A debug build (the one the tests run, see ``Failpoint``) adds the whole seconds written in the file named by
/// `FLIGHTLOG_CLOCK_OFFSET_FILE`, read again at most every 100 ms: a test steps a program's clock by hours without
/// touching the machine's. A release build reads no such variable.
public enum WallClock {
    public static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let now = Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
        #if FLIGHTLOG_FAILPOINTS
        return now &+ Self.testOffsetNanos()
        #else
        return now
        #endif
    }

    #if FLIGHTLOG_FAILPOINTS
    private static let offsetPath: String? = getenv("FLIGHTLOG_CLOCK_OFFSET_FILE").map { String(cString: $0) }
    private static let offsetNanos = Atomic<Int64>(0)
    private static let offsetReadAt = Atomic<Int64>(Int64.min)

    private static func testOffsetNanos() -> Int64 {
        guard let path = Self.offsetPath else { return 0 }
        var monotonic = timespec()
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        let tick = Int64(monotonic.tv_sec) &* 10 &+ Int64(monotonic.tv_nsec) / 100_000_000
        if Self.offsetReadAt.exchange(tick, ordering: .relaxed) != tick {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                var buffer = [UInt8](repeating: 0, count: 32)
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 31) }
                close(fd)
                if count > 0 {
                    let text = String(decoding: buffer[0..<count], as: UTF8.self)
                    let seconds = Int64(text.filter { $0 == "-" || $0.isNumber }) ?? 0
                    Self.offsetNanos.store(seconds &* 1_000_000_000, ordering: .relaxed)
                }
            }
        }
        return Self.offsetNanos.load(ordering: .relaxed)
    }
    #endif
}
