/// Arithmetic that cannot trap, for values a peer, a file, a flag or the database chose.
///
/// Swift's `+`, `-` and `*` stop the process on overflow. A time (`i64` ns) or a count that arrived from outside may
/// be anything its type holds (PROTOCOL.md §1: −2^63 is a legal agent clock), so a difference of two of them is taken
/// here, clamped to the type's range: a skew of −2^63 − now is "as far in the past as a time can say", not a crash.
/// RELIABILITY.md lists every site that uses these and why.
extension FixedWidthInteger {
    /// `self + other`, or the type's bound in the direction of the overflow.
    @inlinable
    public func addingSaturating(_ other: Self) -> Self {
        let (result, overflow) = self.addingReportingOverflow(other)
        guard overflow else { return result }
        return other > 0 ? .max : .min
    }

    /// `self − other`, or the type's bound in the direction of the overflow.
    @inlinable
    public func subtractingSaturating(_ other: Self) -> Self {
        let (result, overflow) = self.subtractingReportingOverflow(other)
        guard overflow else { return result }
        return other > 0 ? .min : .max
    }

    /// `self × other`, or the type's bound with the sign of the exact product.
    @inlinable
    public func multipliedSaturating(by other: Self) -> Self {
        let (result, overflow) = self.multipliedReportingOverflow(by: other)
        guard overflow else { return result }
        return (self < 0) != (other < 0) ? .min : .max
    }
}
