import Crypto
import FlightlogAgent
import Foundation
import Logging
import ServiceLifecycle

// flightlog-bench journal [ENTRIES]: the agent's journal source on real journal files written by
// systemd-journal-remote. Catch-up: ENTRIES (200,000) entries already in the journal, read, mapped, parsed, batched,
// compressed, signed and spooled. Follow: as many again appended by systemd-journal-remote while the agent reads.
// Prints entries per CPU-second of the agent for each, libsystemd's own iteration (`journalctl -o export`) for
// scale, and the agent's peak resident memory, anonymous and file-mapped apart (journal files are mapped).

/// Export-format input of `count` entries shaped like a workstation's journal: sshd, sudo, PAM, cron and systemd
/// messages with the ~20 fields journald stores for a syslog-transport entry.
private func journalExport(count: Int, first: Int, micros: UInt64) -> Data {
    var out = ""
    out.reserveCapacity(count * 700)
    let users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    for n in first..<(first + count) {
        let user = users[n % users.count]
        let ip = "203.0.\(n / 250 % 250).\(n % 250)"
        let (program, message): (String, String)
        switch n % 8 {
        case 0, 1:
            (program, message) = ("sshd", "Failed password for \(user) from \(ip) port \(30000 + n % 30000) ssh2")
        case 2:
            (program, message) = (
                "sshd",
                "Accepted publickey for \(user) from \(ip) port \(40000 + n % 20000) ssh2: ED25519 SHA256:q0f8cM2pTbW3e"
            )
        case 3:
            (program, message) = (
                "sshd", "pam_unix(sshd:session): session opened for user \(user)(uid=1000) by (uid=0)"
            )
        case 4:
            (program, message) = (
                "sudo",
                "   \(user) : TTY=pts/\(n % 9) ; PWD=/home/\(user) ; USER=root ; COMMAND=/usr/bin/systemctl restart crm-sync"
            )
        case 5: (program, message) = ("CRON", "pam_unix(cron:session): session closed for user root")
        case 6: (program, message) = ("systemd", "Started session-\(n).scope - Session \(n) of User \(user).")
        default:
            (program, message) = (
                "sshd", "Disconnected from authenticating user \(user) \(ip) port \(50000 + n % 10000) [preauth]"
            )
        }
        let pid = 1000 + n % 30000
        out += "__REALTIME_TIMESTAMP=\(micros + UInt64(n))\n__MONOTONIC_TIMESTAMP=\(n)\n"
        out += "_BOOT_ID=6a7f3c0e2d4b4f6e9b1a0c2d3e4f5a6b\n_MACHINE_ID=0f1e2d3c4b5a69788796a5b4c3d2e1f0\n"
        out += "_HOSTNAME=cc-ws-0412\n_TRANSPORT=syslog\nPRIORITY=\(n % 3 == 0 ? 5 : 6)\nSYSLOG_FACILITY=10\n"
        out += "SYSLOG_IDENTIFIER=\(program)\nSYSLOG_PID=\(pid)\nSYSLOG_TIMESTAMP=Dec  7 10:00:00 \n"
        out += "_PID=\(pid)\n_UID=0\n_GID=0\n_COMM=\(program == "CRON" ? "cron" : program)\n"
        out += "_EXE=/usr/sbin/\(program.lowercased())\n_CMDLINE=\(program.lowercased()): \(user) [priv]\n"
        out += "_CAP_EFFECTIVE=1ffffffffff\n_SELINUX_CONTEXT=unconfined\n"
        out += "_SYSTEMD_CGROUP=/system.slice/ssh.service\n_SYSTEMD_UNIT=ssh.service\n_SYSTEMD_SLICE=system.slice\n"
        out +=
            "_SYSTEMD_INVOCATION_ID=9c1a6e0d3b2f4a5e8d7c6b5a4f3e2d1c\n_SOURCE_REALTIME_TIMESTAMP=\(micros + UInt64(n))\n"
        out += "MESSAGE=\(message)\n\n"
    }
    return Data(out.utf8)
}

/// Runs systemd-journal-remote to append the export file `input` to `journal`; returns its exit status.
private func journalRemote(_ input: String, _ journal: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/lib/systemd/systemd-journal-remote")
    process.arguments = ["--output=" + journal, "--split-mode=none", input]
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// `RssAnon` and `RssFile` of this process, MiB.
private func rssParts() -> (anon: Double, file: Double) {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
    var anon = 0.0
    var file = 0.0
    for line in status.split(separator: "\n") {
        let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "0") ?? 0
        if line.hasPrefix("RssAnon:") { anon = kb / 1024 }
        if line.hasPrefix("RssFile:") { file = kb / 1024 }
    }
    return (anon, file)
}

func journalRead(entries: Int) async throws {
    // FLIGHTLOG_BENCH_JOURNAL=DIR keeps the journal and its inputs in DIR and reuses them, and skips the follow
    // phase: for profiling the catch-up.
    let kept = ProcessInfo.processInfo.environment["FLIGHTLOG_BENCH_JOURNAL"]
    let dir = kept ?? NSTemporaryDirectory() + "flightlog-bench-journal-" + UUID().uuidString
    let journalFile = dir + "/journal/remote.journal"
    let reuse = kept != nil && FileManager.default.fileExists(atPath: journalFile)
    try FileManager.default.createDirectory(atPath: dir + "/journal", withIntermediateDirectories: true)
    defer {
        if kept == nil { try? FileManager.default.removeItem(atPath: dir) }
        try? FileManager.default.removeItem(atPath: dir + "/state")
    }
    let micros = UInt64(Date().timeIntervalSince1970 * 1_000_000)
    var started = now()
    if !reuse {
        try journalExport(count: entries, first: 0, micros: micros).write(to: URL(fileURLWithPath: dir + "/a.export"))
        try journalExport(count: entries, first: entries, micros: micros)
            .write(to: URL(fileURLWithPath: dir + "/b.export"))
        guard try journalRemote(dir + "/a.export", journalFile) == 0 else {
            throw BenchError("systemd-journal-remote failed")
        }
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: journalFile)[.size] as? Int) ?? 0
    print(
        String(format: "journal: %d entries written in %.1f s, file %d MiB", entries, now() - started, size / 1_048_576)
    )

    // libsystemd's own iteration, for scale: journalctl reading every field of every entry.
    started = now()
    let journalctl = Process()
    journalctl.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
    journalctl.arguments = ["-D", dir + "/journal", "-o", "export", "--no-pager"]
    journalctl.standardOutput = FileHandle.nullDevice
    try journalctl.run()
    journalctl.waitUntilExit()
    let wall = now() - started
    print(
        String(
            format: "journal: journalctl -o export reads them in %.2f s wall = %.0f entries/s",
            wall,
            Double(entries) / wall
        )
    )

    let configuration = AgentConfiguration(
        keyPath: dir + "/key",
        stateDirectory: dir + "/state",
        hostname: "bench",
        insecurePlaintext: true,
        spoolMaxBytes: 1 << 40,
        timeZone: "UTC",
        journal: AgentConfiguration.JournalOptions(directory: dir + "/journal")
    )
    let (collector, _, counters, logger) = try await benchCollector(configuration, key: Curve25519.Signing.PrivateKey())
    let group = ServiceGroup(services: [collector], logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        var peak = rssParts()
        func sample() {
            let parts = rssParts()
            peak = (max(peak.anon, parts.anon), max(peak.file, parts.file))
        }
        var cpuBefore = cpuSeconds()
        var start = now()
        tasks.addTask { try await group.run() }
        while counters["journal_entries_read"] < UInt64(entries) {
            try await Task.sleep(for: .milliseconds(20))
            sample()
        }
        var cpu = cpuSeconds() - cpuBefore
        print(
            String(
                format: "journal: catch-up %d entries in %.2f s; agent CPU %.2f s = %.0f entries per CPU-second",
                entries,
                now() - start,
                cpu,
                Double(entries) / cpu
            )
        )
        // Follow: systemd-journal-remote appends as many again while the agent reads (not with a kept journal, which
        // is for profiling the catch-up).
        cpuBefore = cpuSeconds()
        start = now()
        let writer = Task.detached { kept == nil ? try journalRemote(dir + "/b.export", journalFile) : 0 }
        while kept == nil, counters["journal_entries_read"] < UInt64(2 * entries) {
            try await Task.sleep(for: .milliseconds(20))
            sample()
        }
        _ = try await writer.value
        cpu = cpuSeconds() - cpuBefore
        if kept == nil {
            print(
                String(
                    format:
                        "journal: follow %d entries appended while reading, done in %.2f s; agent CPU %.2f s = %.0f entries per CPU-second",
                    entries,
                    now() - start,
                    cpu,
                    Double(entries) / cpu
                )
            )
        }
        print(
            String(
                format:
                    "journal: peak RssAnon %.1f MiB, RssFile %.1f MiB (journal files and binaries mapped), %d batches",
                peak.anon,
                peak.file,
                Int(counters["batches_built"])
            )
        )
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
