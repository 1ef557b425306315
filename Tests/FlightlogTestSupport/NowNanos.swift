import Foundation

/// The wall clock in nanoseconds since 1970, as the aggregator stamps what it receives.
public func nowNanos() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }
