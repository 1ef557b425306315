import FlightlogSigma
import FlightlogTestSupport
import Testing

/// Replays the corpus libFuzzer kept for the Sigma parser (`scripts/fuzz.sh sigma`, docs/FUZZING.md), as the fuzz
/// target runs it (`Fuzz/Sources/FuzzTargets/SigmaTarget.swift`): any text becomes rules, each of which runs or says
/// why not; the built-in pipeline applies and the detection evaluates without a trap.
@Suite("Fuzz corpus replay: Sigma rules")
struct FuzzCorpusTests {
    struct Sample: SigmaEventValues {
        let line = "Dec  7 00:00:01 ws-1 sshd[411]: Failed password for root from 203.0.113.9 port 2201 ssh2"
        let fields: [String: [String]] = [
            "Image": ["/usr/bin/ssh"],
            "CommandLine": ["ssh -o StrictHostKeyChecking=no root@10.0.0.1"],
            "User": ["root"],
            "src_ip": ["203.0.113.9"],
            "message": ["Failed password for root"],
        ]

        func values(of field: String) -> [String]? { self.fields[field] }
    }

    @Test("sigma: any text gives rules that run or say why not")
    func rules() throws {
        let corpus = try RepositoryFiles.fuzzCorpus("sigma")
        #expect(!corpus.isEmpty)
        var runnable = 0
        var refused = 0
        for (name, input) in corpus {
            let text = String(decoding: input, as: UTF8.self)
            let rules = SigmaRule.resolvingCorrelations(SigmaRule.documents(file: name, yaml: text))
            for rule in rules {
                #expect(
                    rule.isRunnable || !rule.unsupported.isEmpty,
                    "\(name): a rule that cannot run does not say why"
                )
                let applied = SigmaPipeline.builtIn.apply(to: rule)
                if let detection = applied.detection {
                    _ = SigmaEvaluator.matches(detection, Sample())
                }
                if rule.isRunnable { runnable += 1 } else { refused += 1 }
            }
            _ = try? SigmaPipeline(yaml: text)
        }
        #expect(runnable > 0)
        #expect(refused > 0)
    }
}
