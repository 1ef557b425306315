import FlightlogSystem
import FlightlogTestSupport
import Foundation
import Glibc
import Testing

extension FaultInjectionTests {
    /// `scripts/install`, `scripts/uninstall` and `scripts/package-deb` run as an operator runs them, into a throwaway
    /// root (`--destdir`, `useradd --root`) with the executables this test run built. Needs root (chown to the staged
    /// user, `useradd --root`), as CI runs; `systemd-analyze` and `dpkg-deb` come from scripts/deps.sh.
    @Suite("Install scripts in a throwaway root", .enabled(if: getuid() == 0, "needs root (useradd --root, chown)"))
    struct InstallScriptTests {
        /// A non-default prefix, so that a unit still pointing at /usr/local/bin is caught.
        static let prefix = "/opt/flightlog"

        @Test func installsBothRolesKeepsConfigurationOnReinstallAndUninstallsWithoutTouchingEvidence() async throws {
            let root = try StagingRoot()
            defer { root.directory.cleanup() }
            let aggregator = try await root.script("install", ["--role", "aggregator", "--prefix", Self.prefix])
            #expect(aggregator.status == 0, "\(aggregator.stdout)\n\(aggregator.stderr)")
            #expect(
                aggregator.stdout.contains("systemctl enable --now flightlog-serve.service"),
                "\(aggregator.stdout)"
            )
            #expect(aggregator.stdout.contains("tls-init"))
            let agent = try await root.script("install", ["--role", "agent", "--prefix", Self.prefix])
            #expect(agent.status == 0, "\(agent.stdout)\n\(agent.stderr)")
            #expect(agent.stdout.contains("systemctl enable --now flightlog-agent"), "\(agent.stdout)")
            #expect(agent.stdout.contains("flightlog-agent enroll --config /etc/flightlog/agent.yaml"))

            // Binaries, units pointing at them, docs the units name.
            for binary in ["flightlog", "flightlog-agent"] {
                #expect(FileManager.default.isExecutableFile(atPath: root.path("\(Self.prefix)/bin/\(binary)")))
            }
            let units = [
                "flightlog-agent.service", "flightlog-serve.service", "flightlog-verify.service",
                "flightlog-verify.timer", "flightlog-verify-incremental.service", "flightlog-verify-incremental.timer",
                "flightlog-verify-deep.service", "flightlog-verify-deep.timer",
            ]
            for unit in units {
                let text = try #require(try root.text("/etc/systemd/system/\(unit)"), "\(unit) not installed")
                #expect(!text.contains("/usr/local/bin"), "\(unit)")
                for line in text.split(separator: "\n") where line.hasPrefix("ExecStart") {
                    #expect(line.contains("=\(Self.prefix)/bin/flightlog"), "\(unit): \(line)")
                }
                for line in text.split(separator: "\n") where line.hasPrefix("Documentation=file://") {
                    let doc = String(line.dropFirst("Documentation=file://".count))
                    #expect(doc.hasPrefix("\(Self.prefix)/share/doc/flightlog-"), "\(unit): \(line)")
                    #expect(FileManager.default.fileExists(atPath: root.path(doc)), "\(unit): \(doc) missing")
                }
            }

            // The user, configs, state directories with their owners and modes.
            let passwd = try #require(try root.text("/etc/passwd"))
            let user = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("flightlog:") })
            let fields = user.split(separator: ":", omittingEmptySubsequences: false)
            let uid = try #require(UInt32(String(fields[2])))
            let gid = try #require(UInt32(String(fields[3])))
            #expect(fields.last == "/usr/sbin/nologin")
            #expect(uid != 0 && uid < 1000, "a system user: \(user)")
            #expect(try root.text("/etc/group")?.contains("flightlog:x:\(gid):") == true)
            #expect(root.stat("/etc/flightlog/agent.yaml") == Mode(permissions: 0o640, uid: 0, gid: 0))
            #expect(root.stat("/etc/flightlog/aggregator.yaml") == Mode(permissions: 0o640, uid: 0, gid: gid))
            #expect(root.stat("/var/lib/flightlog") == Mode(permissions: 0o700, uid: uid, gid: gid))
            #expect(root.stat("/var/lib/flightlog-offsite") == Mode(permissions: 0o700, uid: uid, gid: gid))
            #expect(root.stat("/var/lib/flightlog-agent") == Mode(permissions: 0o700, uid: 0, gid: 0))
            let sample = try String(
                contentsOf: RepositoryFiles.root.appendingPathComponent("agent/flightlog-agent.yaml"),
                encoding: .utf8
            )
            #expect(try root.text("/etc/flightlog/agent.yaml") == sample)

            // systemd's own check of the installed units.
            try await Self.expectSystemdAcceptsUnits(in: root)

            // Re-install: an edited config and a key stay byte for byte; the new samples go beside them.
            let edited = sample.replacingOccurrences(of: "logs.callcenter.example:7514", with: "10.0.0.5:7514")
            try Data(edited.utf8).write(to: URL(fileURLWithPath: root.path("/etc/flightlog/agent.yaml")))
            let key = Data((0..<64).map { UInt8($0 * 7 % 256) })
            try key.write(to: URL(fileURLWithPath: root.path("/etc/flightlog/agent.key")))
            let servedConfig = try root.text("/etc/flightlog/aggregator.yaml")
            for role in ["aggregator", "agent"] {
                let again = try await root.script("install", ["--role", role, "--prefix", Self.prefix])
                #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
                let config = "/etc/flightlog/\(role).yaml"
                #expect(again.stdout.contains("kept \(config) as it was; the new sample is \(config).dist"))
                #expect(root.stat(config + ".dist")?.permissions == 0o640)
            }
            #expect(try root.text("/etc/flightlog/agent.yaml") == edited)
            #expect(try root.text("/etc/flightlog/agent.yaml.dist") == sample)
            #expect(try root.text("/etc/flightlog/aggregator.yaml") == servedConfig)
            #expect(FileManager.default.contents(atPath: root.path("/etc/flightlog/agent.key")) == key)
            #expect(try root.text("/etc/passwd")?.components(separatedBy: "\nflightlog:").count == 2, "one user")

            // Uninstall: the aggregator's files go, the evidence and the other role stay.
            let evidence = Data("SQLite format 3\0 stands in for the evidence".utf8)
            try evidence.write(to: URL(fileURLWithPath: root.path("/var/lib/flightlog/flightlog.db")))
            let removed = try await root.script("uninstall", ["--role", "aggregator"])
            #expect(removed.status == 0, "\(removed.stdout)\n\(removed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root.path("\(Self.prefix)/bin/flightlog")))
            #expect(!FileManager.default.fileExists(atPath: root.path("/etc/systemd/system/flightlog-serve.service")))
            #expect(!FileManager.default.fileExists(atPath: root.path("/etc/systemd/system/flightlog-verify.timer")))
            #expect(!FileManager.default.fileExists(atPath: root.path("\(Self.prefix)/share/doc/flightlog-aggregator")))
            #expect(FileManager.default.contents(atPath: root.path("/var/lib/flightlog/flightlog.db")) == evidence)
            #expect(FileManager.default.fileExists(atPath: root.path("/etc/flightlog/aggregator.yaml")))
            #expect(FileManager.default.isExecutableFile(atPath: root.path("\(Self.prefix)/bin/flightlog-agent")))
            #expect(FileManager.default.fileExists(atPath: root.path("/etc/systemd/system/flightlog-agent.service")))

            // The agent, with an empty state directory: nothing unsent, so no refusal; --purge-config keeps the key.
            let agentRemoved = try await root.script("uninstall", ["--role", "agent", "--purge-config"])
            #expect(agentRemoved.status == 0, "\(agentRemoved.stdout)\n\(agentRemoved.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root.path("\(Self.prefix)/bin/flightlog-agent")))
            #expect(!FileManager.default.fileExists(atPath: root.path("/etc/flightlog/agent.yaml")))
            #expect(!FileManager.default.fileExists(atPath: root.path("/etc/flightlog/agent.yaml.dist")))
            #expect(FileManager.default.contents(atPath: root.path("/etc/flightlog/agent.key")) == key)
            #expect(FileManager.default.fileExists(atPath: root.path("/var/lib/flightlog-agent")))
            let twice = try await root.script("uninstall", ["--role", "agent"])
            #expect(twice.status == 2 && twice.stderr.contains("nothing recorded as installed"), "\(twice.stderr)")
        }

        @Test func badArgumentsAreRefusedWithUsage() async throws {
            let root = try StagingRoot()
            defer { root.directory.cleanup() }
            for script in ["install", "uninstall", "package-deb"] {
                let help = try await root.script(script, ["--help"])
                #expect(help.status == 0 && help.stdout.contains("Usage: scripts/\(script) --role"), "\(script)")
                let badRole = try await root.script(script, ["--role", "workstation"])
                #expect(badRole.status == 2 && badRole.stderr.contains("unknown role 'workstation'"), "\(script)")
                let badFlag = try await root.script(script, ["--role", "agent", "--frobnicate"])
                #expect(badFlag.status == 2 && badFlag.stderr.contains("unknown argument: --frobnicate"), "\(script)")
            }
        }

        /// A real spool: the real agent reads a log while nothing listens at its aggregator's port, commits batches
        /// it cannot ship, and is stopped with SIGTERM (which commits one more, its stop event).
        @Test func uninstallingTheAgentRefusesWhileItsSpoolHoldsUnsentBatches() async throws {
            let root = try StagingRoot()
            defer { root.directory.cleanup() }
            let installed = try await root.script("install", ["--role", "agent"])
            #expect(installed.status == 0, "\(installed.stdout)\n\(installed.stderr)")
            let state = root.path("/var/lib/flightlog-agent")
            let scratch = root.directory
            try scratch.append("auth.log", lines: (1...20).map { "Nov 24 09:00:\($0 + 10) ws sshd[1]: line \($0)" })
            let keygen = try await Subprocess.runAsync(
                try Executables.path("flightlog-agent"),
                ["keygen", "--key", scratch.file("agent.key")]
            )
            #expect(keygen.status == 0, "\(keygen.stderr)")
            let closedPort = try Harness.freePort()
            let agent = try Subprocess(
                try Executables.path("flightlog-agent"),
                [
                    "run", "--aggregator", "127.0.0.1:\(closedPort)", "--key", scratch.file("agent.key"),
                    "--state-dir", state, "--hostname", "cc-ws-install", "--flush-interval-ms", "50",
                    "--watch", scratch.file("auth.log"), "--insecure-plaintext",
                ],
                stdout: scratch.file("agent.log"),
                stderr: scratch.file("agent.log")
            )
            do {
                try await Harness.eventuallyAsync(seconds: 60, "a batch spooled") {
                    (try await Self.unsentBatches(stateDirectory: state) ?? 0) > 0
                }
            } catch {
                Harness.killHard(agent)
                throw error
            }
            agent.terminate()
            #expect(await agent.exited() == 0)
            let unsent = try #require(try await Self.unsentBatches(stateDirectory: state))
            #expect(unsent >= 2, "the lines' batch and the stop event's")

            let refused = try await root.script("uninstall", ["--role", "agent"])
            #expect(refused.status == 1, "\(refused.stdout)\n\(refused.stderr)")
            #expect(
                refused.stderr.contains(
                    "holds \(unsent) unsent batches in /var/lib/flightlog-agent/spool (counted by flightlog-agent status)"
                ),
                "\(refused.stderr)"
            )
            #expect(refused.stderr.contains("--force"))
            #expect(FileManager.default.isExecutableFile(atPath: root.path("/usr/local/bin/flightlog-agent")))
            #expect(FileManager.default.fileExists(atPath: root.path("/etc/systemd/system/flightlog-agent.service")))

            let forced = try await root.script("uninstall", ["--role", "agent", "--force"])
            #expect(forced.status == 0, "\(forced.stdout)\n\(forced.stderr)")
            #expect(forced.stderr.contains("\(unsent) unsent batches stay in /var/lib/flightlog-agent/spool"))
            #expect(!FileManager.default.fileExists(atPath: root.path("/usr/local/bin/flightlog-agent")))
            let spooled = try FileManager.default.contentsOfDirectory(atPath: state + "/spool")
            #expect(spooled.filter { $0.hasSuffix(".flb") }.count == unsent, "the spool is left as it was")
            #expect(FileManager.default.fileExists(atPath: state + "/chain.json"))
        }

        @Test func packagesEachRoleAsADebWithConffilesAndMaintainerScripts() async throws {
            let root = try StagingRoot()
            defer { root.directory.cleanup() }
            let out = root.directory.file("debs")
            let arch = try await Subprocess.runAsync("/usr/bin/dpkg", ["--print-architecture"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            for (role, binary, unit) in [
                ("agent", "flightlog-agent", "flightlog-agent.service"),
                ("aggregator", "flightlog", "flightlog-serve.service"),
            ] {
                let built = try await root.script(
                    "package-deb",
                    ["--role", role, "--version", "1.2.3~test", "--out", out, "--compression", "none"]
                )
                #expect(built.status == 0, "\(built.stdout)\n\(built.stderr)")
                let deb = out + "/flightlog-\(role)_1.2.3~test_\(arch).deb"
                #expect(built.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == deb)
                let info = try await Subprocess.runAsync("/usr/bin/dpkg-deb", ["--info", deb])
                #expect(info.status == 0, "\(info.stderr)")
                #expect(info.stdout.contains("Package: flightlog-\(role)"), "\(info.stdout)")
                #expect(info.stdout.contains("Version: 1.2.3~test"))
                #expect(info.stdout.contains("Depends: ") && info.stdout.contains("libc6"), "\(info.stdout)")
                for script in ["postinst", "prerm", "postrm", "conffiles"] {
                    #expect(info.stdout.contains(" \(script)"), "\(script) missing: \(info.stdout)")
                }
                let conffiles = try await Subprocess.runAsync("/usr/bin/dpkg-deb", ["--info", deb, "conffiles"])
                #expect(conffiles.stdout == "/etc/flightlog/\(role).yaml\n", "\(conffiles.stdout)")
                let postinst = try await Subprocess.runAsync("/usr/bin/dpkg-deb", ["--info", deb, "postinst"]).stdout
                let commands = postinst.split(separator: "\n").filter {
                    !$0.trimmingCharacters(in: .whitespaces).hasPrefix("echo ")
                }
                #expect(commands.contains { $0.contains("systemctl daemon-reload") })
                #expect(!commands.contains { $0.contains("systemctl start") || $0.contains("systemctl enable") })
                #expect(postinst.contains("adduser --system") == (role == "aggregator"), "\(postinst)")

                let contents = try await Subprocess.runAsync("/usr/bin/dpkg-deb", ["--contents", deb])
                #expect(contents.status == 0)
                let listing = contents.stdout.split(separator: "\n")
                for path in [
                    "./usr/bin/\(binary)", "./lib/systemd/system/\(unit)", "./etc/flightlog/\(role).yaml",
                    "./usr/share/doc/flightlog-\(role)/README.md", "./usr/share/doc/flightlog-\(role)/INSTALL.md",
                ] {
                    #expect(listing.contains { $0.hasSuffix(" " + path) }, "\(path) not in \(contents.stdout)")
                }
                #expect(listing.allSatisfy { $0.contains(" root/root ") }, "\(contents.stdout)")
                #expect(!contents.stdout.contains("/var/lib/"), "no state or manifest in the package")

                let unpacked = root.directory.file("unpacked-\(role)")
                #expect(try await Subprocess.runAsync("/usr/bin/dpkg-deb", ["-x", deb, unpacked]).status == 0)
                let unitText = try String(contentsOfFile: unpacked + "/lib/systemd/system/\(unit)", encoding: .utf8)
                #expect(unitText.contains("ExecStart=/usr/bin/\(binary) "), "\(unitText)")
                #expect(unitText.contains("Documentation=file:///usr/share/doc/flightlog-\(role)/"))
            }
        }

        /// The long variant: a minimal Debian 12 made with debootstrap, both packages installed with dpkg -i in a
        /// chroot, then the user, the files and systemd's check of the units inside it.
        @Test(
            .enabled(
                if: ProcessInfo.processInfo.environment["FLIGHTLOG_LONG"] == "1",
                "a debootstrap of Debian 12 (a few minutes, needs a mirror): scripts/test.sh --long"
            )
        )
        func bothPackagesInstallInAFreshDebootstrappedDebian() async throws {
            let root = try StagingRoot()
            defer { root.directory.cleanup() }
            let result = try await root.script("debootstrap-check", ["--work", root.directory.file("long")])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("debootstrap check: OK"), "\(result.stdout)\n\(result.stderr)")
        }

        /// `systemd-analyze verify` on copies of the installed units whose executables are the staged ones (verify
        /// resolves them on this machine; `--root` would want a whole systemd tree in the staging root): a clean
        /// unit prints nothing and exits 0. A unit whose executable is missing must fail, so the check can fail.
        static func expectSystemdAcceptsUnits(in root: StagingRoot) async throws {
            let copies = root.directory.file("verify")
            try FileManager.default.createDirectory(atPath: copies, withIntermediateDirectories: true)
            var paths: [String] = []
            for name in try FileManager.default.contentsOfDirectory(atPath: root.path("/etc/systemd/system")) {
                guard let text = try root.text("/etc/systemd/system/" + name) else { continue }
                let copy = copies + "/" + name
                let staged = text.replacingOccurrences(
                    of: "=\(Self.prefix)/bin/",
                    with: "=\(root.path(Self.prefix))/bin/"
                )
                try Data(staged.utf8).write(to: URL(fileURLWithPath: copy))
                paths.append(copy)
            }
            #expect(paths.count == 8)
            let verify = try await Subprocess.runAsync("/usr/bin/systemd-analyze", ["verify", "--man=no"] + paths)
            #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
            #expect(verify.stdout.isEmpty && verify.stderr.isEmpty, "\(verify.stdout)\n\(verify.stderr)")

            let broken = copies + "/broken.service"
            try Data("[Service]\nExecStart=\(root.path("/missing/flightlog")) serve\n".utf8)
                .write(to: URL(fileURLWithPath: broken))
            let refused = try await Subprocess.runAsync("/usr/bin/systemd-analyze", ["verify", "--man=no", broken])
            #expect(refused.status != 0, "a unit without its executable passed: \(refused.stderr)")
        }

        /// `flightlog-agent status --json`'s count of committed, unacknowledged batches; nil without agent state.
        static func unsentBatches(stateDirectory: String) async throws -> Int? {
            let status = try await Subprocess.runAsync(
                try Executables.path("flightlog-agent"),
                ["status", "--state-dir", stateDirectory, "--json"]
            )
            guard status.status == 0,
                let document = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any],
                let unsent = document["unsent"] as? [String: Any],
                let batches = unsent["batches"] as? Int
            else { return nil }
            return batches
        }
    }
}

/// Permission bits and owners of a file.
struct Mode: Equatable, CustomStringConvertible {
    var permissions: UInt32
    var uid: UInt32
    var gid: UInt32
    var description: String { "0\(String(self.permissions, radix: 8)) \(self.uid):\(self.gid)" }
}

/// A throwaway root for `--destdir`: the account files `useradd --root` and `groupadd --root` need, and a way to
/// run the repository's scripts against it (with the executables of this test run as `--bin-dir`).
struct StagingRoot {
    let directory: TempDirectory
    let root: String

    init() throws {
        self.directory = try TempDirectory()
        self.root = self.directory.file("root")
        try FileManager.default.createDirectory(atPath: self.root + "/etc", withIntermediateDirectories: true)
        let files: [(String, String, Int)] = [
            ("passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644),
            ("group", "root:x:0:\n", 0o644),
            ("shadow", "root:*:20000:0:99999:7:::\n", 0o600),
            ("gshadow", "root:*::\n", 0o600),
        ]
        for (name, text, mode) in files {
            let path = self.root + "/etc/" + name
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            chmod(path, mode_t(mode))
        }
    }

    /// `path` (absolute on the target) inside the staging root.
    func path(_ path: String) -> String { self.root + path }

    /// A staged file's text; nil when it does not exist.
    func text(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: self.path(path)) else { return nil }
        return try String(contentsOfFile: self.path(path), encoding: .utf8)
    }

    /// Permission bits and owners of a staged file; nil when it does not exist.
    func stat(_ path: String) -> Mode? {
        guard let status = FileStatus.ofLink(path: self.path(path)) else { return nil }
        return Mode(permissions: status.permissions, uid: status.uid, gid: status.gid)
    }

    /// Runs `scripts/NAME` with `--destdir` this root and `--bin-dir` the test run's executables (for the scripts
    /// that take them), without the test process's DESTDIR and PREFIX.
    func script(_ name: String, _ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let binDirectory = URL(fileURLWithPath: try Executables.path("flightlog")).deletingLastPathComponent().path
        var environment = ProcessInfo.processInfo.environment
        environment["DESTDIR"] = nil
        environment["PREFIX"] = nil
        var extra: [String] = []
        if !arguments.contains("--help") {
            switch name {
            case "install": extra = ["--destdir", self.root, "--bin-dir", binDirectory]
            case "uninstall": extra = ["--destdir", self.root]
            case "package-deb", "debootstrap-check": extra = ["--bin-dir", binDirectory]
            default: break
            }
        }
        let script = RepositoryFiles.root.appendingPathComponent("scripts/" + name).path
        return try await Subprocess.runAsync("/bin/bash", [script] + arguments + extra, environment: environment)
    }
}
