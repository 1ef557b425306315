import Testing

/// The suites that run both real programs through faults (kills, a proxy, full disks, stopped processes, clock steps).
/// Each starts several processes and waits on them; run side by side on two cores they starved one another and the
/// rest of the test process, so they run one at a time, beside the other suites.
@Suite("Fault injection, one suite at a time", .serialized)
enum FaultInjectionTests {}
