import FlightlogSigma
import FlightlogTestSupport
import Foundation
import Testing

/// Processing pipelines (pySigma's YAML, the subset ``SigmaPipeline`` reads): field names mapped, logsource
/// conditions added, only where a rule's logsource says so.
@Suite("Sigma processing pipelines")
struct SigmaPipelineTests {
    func rule(_ yaml: String) -> SigmaRule { SigmaRule(file: "t.yml", yaml: yaml) }

    func match(_ field: String, _ modifier: SigmaModifier, _ value: String) -> SigmaExpression {
        .match(SigmaFieldMatch(field: field, modifier: modifier, value: .text(value)))
    }

    @Test func theBuiltInPipelineIsTheOneInTheRepository() throws {
        let file = RepositoryFiles.root.appendingPathComponent("aggregator/sigma/flightlog-pipeline.yml")
        let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
        #expect(text == SigmaPipeline.defaultYAML, "regenerate SigmaPipeline+Default.swift from the YAML file")
        let pipeline = try SigmaPipeline(yaml: text)
        #expect(pipeline == SigmaPipeline.builtIn)
        #expect(pipeline.transformations.count >= 7)
    }

    @Test func fieldsAreRenamedAndLogsourcesNarrowedWhereTheRuleSaysSo() {
        let sshd = self.rule(
            """
            title: t
            logsource: {product: linux, service: sshd}
            detection:
              sel:
                Image|endswith: /bash
                CommandLine|contains: curl
              condition: sel
            """
        )
        let applied = SigmaPipeline.builtIn.apply(to: sshd)
        #expect(
            applied.detection
                == .all([
                    .all([self.match("command", .contains, "curl"), self.match("exe", .endswith, "/bash")]),
                    .any([self.match("program", .equals, "sshd"), self.match("program", .equals, "sshd-session")]),
                ])
        )
        #expect(applied.logsourceNarrowed)
        #expect(applied.pipelineApplied == ["linux_process_fields", "linux_sshd_programs"])
        // A Sysmon category: the audit view the agent links (docs/FIELDS.md), with Sysmon's names mapped.
        for (category, view) in [
            ("process_creation", "process_creation"), ("network_connection", "network_connection"),
            ("file_event", "file_event"), ("file_change", "file_change"),
        ] {
            let rule = self.rule(
                "title: t\nlogsource: {product: linux, category: \(category)}\ndetection:\n  s:\n"
                    + "    ParentImage|endswith: /bash\n  condition: s\n"
            )
            let narrowed = SigmaPipeline.builtIn.apply(to: rule)
            #expect(
                narrowed.detection
                    == .all([self.match("parent_exe", .endswith, "/bash"), self.match("audit_view", .equals, view)])
            )
            #expect(narrowed.pipelineApplied == ["linux_process_fields", "linux_\(category)_view"])
        }
        // Another product: nothing applies.
        let windows = self.rule(
            "title: t\nlogsource: {product: windows}\ndetection:\n  s:\n    Image: x\n  condition: s\n"
        )
        #expect(SigmaPipeline.builtIn.apply(to: windows).detection == self.match("Image", .equals, "x"))
        // `or` between rule conditions; a mapping to several names is any of them, a null check all of them.
        let pipeline = try? SigmaPipeline(
            yaml: """
                name: t
                transformations:
                  - type: field_name_mapping
                    mapping: {ip: [src_ip, client]}
                    rule_conditions:
                      - {type: logsource, category: webserver}
                      - {type: logsource, category: proxy}
                    rule_cond_op: or
                """
        )
        let proxy = self.rule(
            "title: t\nlogsource: {category: proxy}\ndetection:\n  s:\n    ip: 1.2.3.4\n  n:\n    ip: null\n  condition: s or n\n"
        )
        #expect(
            pipeline?.apply(to: proxy).detection
                == .any([
                    .any([self.match("src_ip", .equals, "1.2.3.4"), self.match("client", .equals, "1.2.3.4")]),
                    .all([
                        .match(SigmaFieldMatch(field: "src_ip", modifier: .equals, value: .null)),
                        .match(SigmaFieldMatch(field: "client", modifier: .equals, value: .null)),
                    ]),
                ])
        )
    }

    @Test(
        arguments: [
            ("name: t\n", "no transformations list"),
            ("transformations:\n  - type: drop_detection_item\n", "transformation type 'drop_detection_item'"),
            ("transformations:\n  - type: field_name_mapping\n", "no mapping"),
            (
                "transformations:\n  - type: add_condition\n    conditions: {a: b}\n    rule_conditions:\n      - type: processing_item_applied\n",
                "only logsource rule conditions"
            ),
            ("[", "not valid YAML"),
        ] as [(String, String)]
    )
    func whatItCannotUseIsNamed(yaml: String, reason: String) {
        #expect(throws: SigmaError.self) { try SigmaPipeline(yaml: yaml) }
        do {
            _ = try SigmaPipeline(yaml: yaml)
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }
}
