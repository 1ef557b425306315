import ArgumentParser

/// The `--db` option every command shares.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The Flightlog database file (SQLite). Example: --db /var/lib/flightlog/flightlog.db",
            valueName: "path"
        )
    )
    var db: String = "flightlog.db"
}
