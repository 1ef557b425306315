import GRDB

extension SQLiteStore {
    /// The catalogue of field keys, programs, sources and audit views (``StoreCatalogue``).
    public func catalogue() throws -> StoreCatalogue {
        do {
            return try self.pool.read { db in
                var catalogue = StoreCatalogue()
                let rows = try Row.fetchCursor(db, sql: "SELECT kind, name FROM catalogue")
                while let row = try rows.next() {
                    guard let kind = String.fromDatabaseValue(row[0]), let name = String.fromDatabaseValue(row[1])
                    else { continue }
                    catalogue.insert(kind: kind, name: name)
                }
                return catalogue
            }
        } catch {
            throw StoreError.database("cannot read the catalogue: \(error)")
        }
    }
}
