import Foundation

/// The lines `agent` writes and `parse` reads: ``LineGenerator``'s (the default) or ``MixedCorpus``'s, chosen by
/// `FLIGHTLOG_BENCH_CORPUS` (`generated`, `mixed`, `simulated`).
enum BenchCorpus {
    case generated(LineGenerator)
    case mixed(MixedCorpus)
    case simulated(SimulatedCorpus)

    /// The corpus `FLIGHTLOG_BENCH_CORPUS` names; nil when it is unset.
    static func named() throws -> BenchCorpus? {
        switch ProcessInfo.processInfo.environment["FLIGHTLOG_BENCH_CORPUS"] {
        case nil, "": return nil
        case "generated": return .generated(LineGenerator())
        case "mixed": return .mixed(try MixedCorpus())
        case "simulated": return .simulated(SimulatedCorpus())
        case let other?: throw BenchError("FLIGHTLOG_BENCH_CORPUS=\(other): expected generated, mixed or simulated")
        }
    }

    /// The corpus `FLIGHTLOG_BENCH_CORPUS` names, the generated lines when it is unset.
    static func fromEnvironment() throws -> BenchCorpus {
        try self.named() ?? .generated(LineGenerator())
    }

    var name: String {
        switch self {
        case .generated: "generated"
        case .mixed: "mixed"
        case .simulated: "simulated"
        }
    }

    /// The next line's bytes, without its newline.
    mutating func lineBytes() -> [UInt8] {
        switch self {
        case .generated(var generator):
            let line = generator.lineBytes()
            self = .generated(generator)
            return line
        case .mixed(var corpus):
            let line = corpus.lineBytes()
            self = .mixed(corpus)
            return line
        case .simulated(var corpus):
            let line = corpus.lineBytes()
            self = .simulated(corpus)
            return line
        }
    }
}
