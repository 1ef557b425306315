import ArgumentParser

/// Output formats of listing commands.
enum ListFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case jsonl
}
