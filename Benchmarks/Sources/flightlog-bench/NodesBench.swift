import Crypto
import FlightlogAgent
import FlightlogPostgres
import FlightlogStore
import FlightlogWire
import Foundation

/// `flightlog-bench nodes URL EVENTS CONNECTIONS PORT[,PORT…]`: ingest through `flightlog serve --store` nodes
/// already listening on those ports of 127.0.0.1, all on the PostgreSQL store at URL. CONNECTIONS agents are
/// enrolled in the store, their signed batches built before the clock starts, and connection i ships to port
/// i mod n. Prints events/s and the CPU per event of this client, of every process named `flightlog` (the nodes)
/// and of every process named `postgres` (the server and its backends), read from /proc.
func nodesIngest(url: String, totalEvents: Int, connections: Int, ports: [Int]) async throws {
    let store = try await PostgresStore.open(try PostgresLocation(url), node: "bench")
    defer { store.close() }
    let eventsBefore = try await store.counts().events
    let run = UUID().uuidString.prefix(8)
    let (plans, batchesPerConnection, eventsPerBatch, _) = try await buildPlans(
        totalEvents: totalEvents,
        connections: connections,
        enroll: { name, key in try await store.enroll(name: "\(name)-\(run)", publicKeyBase64: key, atNanos: 1) },
        time: { parsed, observed in (parsed ?? observed, parsed == nil ? [] : .timeFromLine) }
    )
    let total = connections * batchesPerConnection * eventsPerBatch
    print(
        "nodes: \(ports.count) node(s), \(connections) connections × \(batchesPerConnection) batches × \(eventsPerBatch) events = \(total) events, \(eventsBefore) already stored"
    )
    let before = (client: cpuSeconds(), nodes: processCPU(named: "flightlog"), postgres: processCPU(named: "postgres"))
    let start = now()
    try await withThrowingTaskGroup(of: Void.self) { clients in
        for (index, plan) in plans.enumerated() {
            let port = ports[index % ports.count]
            clients.addTask { try await ship(key: plan.0, batches: plan.1, port: port, tls: nil) }
        }
        try await clients.waitForAll()
    }
    let elapsed = now() - start
    let after = (client: cpuSeconds(), nodes: processCPU(named: "flightlog"), postgres: processCPU(named: "postgres"))
    let stored = try await store.counts().events - eventsBefore
    func perEvent(_ seconds: Double) -> Double { seconds / Double(max(1, stored)) * 1e6 }
    print(
        String(
            format:
                "nodes: %d node(s): %d events in %.2f s = %.0f events/s; CPU per event: nodes %.1f µs, postgres %.1f µs, client %.1f µs",
            ports.count,
            stored,
            elapsed,
            Double(stored) / elapsed,
            perEvent(after.nodes - before.nodes),
            perEvent(after.postgres - before.postgres),
            perEvent(after.client - before.client)
        )
    )
    let perNode = try await store.batchesPerNode()
    print(
        "nodes: batches per node \(perNode.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))"
    )
}

/// User and system CPU seconds of every process whose name (`/proc/PID/comm`) is `name`, children reaped included.
func processCPU(named name: String) -> Double {
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    var total = 0.0
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
        guard let comm = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8),
            comm.trimmingCharacters(in: .whitespacesAndNewlines) == name,
            let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { continue }
        // Fields after "(comm)": state is 3rd; utime, stime, cutime, cstime are the 14th–17th of the whole line.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
        total += (user + system) / ticks
    }
    return total
}
