import GRDB

/// Another connection holding a database's write lock (`BEGIN IMMEDIATE`), as a database that has fallen behind
/// would: nothing else commits there until ``release()``.
public struct WriteLockHolder: Sendable {
    private let queue: DatabaseQueue

    public init(_ path: String) async throws {
        var unsafe = Configuration()
        unsafe.allowsUnsafeTransactions = true
        self.queue = try DatabaseQueue(path: path, configuration: unsafe)
        try await self.queue.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
    }

    public func release() async throws {
        try await self.queue.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
    }
}
