public import Foundation

extension RepositoryFiles {
    /// `Tests/Fixtures/fuzz/<target>`: the inputs libFuzzer kept for one fuzz target, minimised by `scripts/fuzz.sh`
    /// (docs/FUZZING.md).
    public static func fuzzCorpusDirectory(_ target: String) -> URL {
        Self.fixtures.appendingPathComponent("fuzz").appendingPathComponent(target)
    }

    /// Every input of one fuzz target's corpus, by file name, sorted so that a failure names the same file each run.
    public static func fuzzCorpus(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let directory = Self.fuzzCorpusDirectory(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }
        return try names.sorted().map { name in
            (name, [UInt8](try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }
}
