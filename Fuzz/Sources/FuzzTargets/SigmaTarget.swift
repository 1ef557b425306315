import FlightlogSigma

/// The Sigma rule parser: YAML text into rules (every document of it, correlations resolved), the condition parser
/// behind each detection, the built-in pipeline applied, and the resulting expression evaluated on one event; the
/// same text read as a pipeline. A rule either runs or says why not.
public enum SigmaTarget {
    /// An event with a few of the fields SigmaHQ's Linux rules name.
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

    public static func run(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        let rules = SigmaRule.resolvingCorrelations(SigmaRule.documents(file: "fuzz.yml", yaml: text))
        let pipeline = SigmaPipeline.builtIn
        for rule in rules {
            invariant(rule.isRunnable || !rule.unsupported.isEmpty, "a rule that cannot run does not say why")
            let applied = pipeline.apply(to: rule)
            if let detection = applied.detection {
                _ = SigmaEvaluator.matches(detection, Sample())
                _ = detection.absentFields { Sample().fields[$0] != nil }
            }
        }
        _ = try? SigmaPipeline(yaml: text)
    }
}
