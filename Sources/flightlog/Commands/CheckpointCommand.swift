import ArgumentParser
import FlightlogEvidence
import FlightlogStore
import Foundation

struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign a checkpoint of the transparency log now, print it, and append it to an external file.",
        discussion: """
            The checkpoint (C2SP signed-note format: origin, tree size, base64 root hash, signature by the \
            aggregator key) is stored in the database and printed. With --out it is also appended to FILE; copy \
            that file and the verifier key (KEY.pub) off the machine, then check the store against them with \
            `flightlog verify --checkpoints FILE --aggregator-key KEY.pub`.

            Examples:
              flightlog checkpoint --db /var/lib/flightlog/flightlog.db
              flightlog checkpoint --db flightlog.db --out /mnt/worm/flightlog-checkpoints.txt
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(
        help: ArgumentHelp(
            "Append the signed note to this file. Example: --out /mnt/worm/checkpoints.txt",
            valueName: "file"
        )
    )
    var out: String?

    @Option(
        help: ArgumentHelp(
            "The aggregator's private key file (created when missing); default: flightlog-aggregator.key next to the "
                + "database. Example: --aggregator-key /etc/flightlog/aggregator.key",
            valueName: "path"
        )
    )
    var aggregatorKey: String?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: self.database.db) else {
            Output.error("no database at \(self.database.db): pass --db")
            throw ExitCode(2)
        }
        let note: String
        do {
            let signer = try AggregatorKeyFile.loadOrCreate(
                self.aggregatorKey ?? AggregatorKeyFile.defaultPath(database: self.database.db)
            )
            let store = try Storage.open(path: self.database.db, onDamagedIndex: .leaveOut)
            guard let signed = try await store.makeCheckpoint(signer: signer, atNanos: nowNanos()) else {
                Output.error("no checkpoint was made")
                throw ExitCode(2)
            }
            note = signed.note
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        FileHandle.standardOutput.write(Data(note.utf8))
        if let out = self.out {
            do {
                try Self.append(note + "\n", to: out)
            } catch {
                Output.error("cannot append to \(out): \(error)")
                throw ExitCode(2)
            }
        }
    }

    /// Appends and fsyncs: the copy off the machine is only as good as its durability.
    static func append(_ text: String, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644])
            else {
                throw CocoaError(.fileWriteUnknown)
            }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.synchronize()
    }
}
