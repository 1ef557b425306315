import GRDB

/// Working hours, in a time zone: activity outside `[startHour, endHour)` is unusual.
public struct WorkHours: Sendable, Equatable {
    public var startHour: Int
    public var endHour: Int
    /// Seconds east of UTC for an instant (DST-aware when built from a zone).
    public var offset: @Sendable (Int64) -> Int

    public init(startHour: Int, endHour: Int, offset: @escaping @Sendable (Int64) -> Int = { _ in 0 }) {
        self.startHour = startHour
        self.endHour = endHour
        self.offset = offset
    }

    public static func == (lhs: WorkHours, rhs: WorkHours) -> Bool {
        lhs.startHour == rhs.startHour && lhs.endHour == rhs.endHour
    }

    func contains(_ nanos: Int64) -> Bool {
        let local = nanos / 1_000_000_000 + Int64(self.offset(nanos))
        let hour = Int(((local % 86_400) + 86_400) % 86_400 / 3600)
        return hour >= self.startHour && hour < self.endHour
    }
}
