import Glibc

/// The process's limit on open file descriptors (`RLIMIT_NOFILE`).
public enum OpenFileLimits {
    /// The soft and hard limits; nil when they cannot be read. `UInt64.max` stands for "unlimited".
    public static func current() -> (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return nil }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Sets the soft limit to `soft` (at most the hard limit, which is kept); returns the soft limit in force
    /// afterwards, or nil when it could not be set.
    public static func setSoft(_ soft: UInt64) -> UInt64? {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return nil }
        limit.rlim_cur = rlim_t(min(soft, UInt64(limit.rlim_max)))
        guard setrlimit(Self.resource, &limit) == 0 else { return nil }
        return UInt64(limit.rlim_cur)
    }

    private static var resource: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
