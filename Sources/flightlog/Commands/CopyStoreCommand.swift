import ArgumentParser
import FlightlogAggregator
import FlightlogPostgres
import FlightlogStore
import Foundation

struct CopyStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy-store",
        abstract: "Copy an SQLite store into a PostgreSQL store, for several aggregators (docs/SCALE-OUT.md).",
        discussion: """
            Offline: no `flightlog serve` may run on the SQLite database (its serve lock is taken for the copy). \
            Agents are created with every key they held, and their signed key rotations stored; then every stored batch goes through the PostgreSQL \
            store's own ingest, in the order it was stored and with its original receipt time, so that the chain \
            checks and the transparency log are rebuilt leaf for leaf and the tree's root is the SQLite store's. \
            The findings about batches that were refused and the signed checkpoints come last; `verify --store` \
            then checks each copied checkpoint against the rebuilt tree, which proves the copy complete and \
            unaltered.

            Resumable: the last batch copied is recorded on the target after each transaction; run the same \
            command again after an interruption and it goes on from there (batches copied twice are answered \
            duplicate and written once).

            Exit status: 0 copied, 2 could not copy (the message says why).

            Example:
              FLIGHTLOG_PG_PASSWORD_FILE=/etc/flightlog/pg.pass flightlog copy-store \\
                  --from /var/lib/flightlog/flightlog.db --to postgres://flightlog@db1/flightlog
              flightlog verify --store postgres://flightlog@db1/flightlog \\
                  --aggregator-key /var/lib/flightlog/flightlog-aggregator.key.pub
            """
    )

    @Option(
        help: ArgumentHelp(
            "The SQLite store to copy. Example: --from /var/lib/flightlog/flightlog.db",
            valueName: "path"
        )
    )
    var from: String

    @Option(
        help: ArgumentHelp(
            "The PostgreSQL store to copy into, created when empty; the password from FLIGHTLOG_PG_PASSWORD_FILE. "
                + "Example: --to postgres://flightlog@db1/flightlog",
            valueName: "url"
        )
    )
    var to: String

    @Option(
        help: "Batches per transaction on the target (1–10000, default 200). Example: --batches-per-transaction 200"
    )
    var batchesPerTransaction = 200

    func validate() throws {
        guard (1...10_000).contains(self.batchesPerTransaction) else {
            throw ValidationError("--batches-per-transaction must be between 1 and 10000")
        }
        do {
            _ = try PostgresLocation(self.to)
        } catch {
            throw ValidationError("--to: \(error)")
        }
    }

    func run() async throws {
        guard FileManager.default.fileExists(atPath: self.from) else {
            Output.error("no database at \(self.from)")
            throw ExitCode(2)
        }
        let lock: ServeLock
        do {
            lock = try ServeLock.acquire(databasePath: self.from)
        } catch {
            Output.error("\(error): stop it first, the copy is made offline")
            throw ExitCode(2)
        }
        defer { lock.release() }
        let source: any FlightlogStorage
        let target: PostgresStore
        do {
            source = try Storage.openReadOnly(path: self.from, onDamagedIndex: .leaveOut)
            target = try await PostgresStore.open(try PostgresLocation(self.to), node: "copy-store")
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        defer { target.close() }
        let started = ContinuousClock.now
        let interactive = isatty(STDERR_FILENO) == 1
        let result: CopyProgress
        do {
            let checkpoints = try await source.checkpoints()
            let total = try await source.counts().batches
            result = try await target.copy(
                from: source,
                source: URL(fileURLWithPath: self.from).standardizedFileURL.path,
                checkpoints: checkpoints,
                rotations: try await source.rotations(),
                batchesPerTransaction: self.batchesPerTransaction
            ) { progress in
                if interactive {
                    let done = progress.batchesStored + progress.batchesAlreadyThere
                    FileHandle.standardError.write(Data("\rcopy-store: \(done) batches of \(total)".utf8))
                }
            }
        } catch {
            if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            Output.error("copy-store stopped: \(error). Run the same command again to go on from the last batch copied")
            throw ExitCode(2)
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        let seconds = Double((ContinuousClock.now - started).components.seconds)
        Output.line(
            "copied \(self.from) to \(target.location): \(result.agents) agents, \(result.batchesStored) batches "
                + "(\(result.batchesAlreadyThere) already there), \(result.findings) findings, \(result.checkpoints) "
                + "checkpoints in \(Int(seconds)) s; check it with `flightlog verify --store \(target.location) "
                + "--aggregator-key KEY.pub`"
        )
    }
}
