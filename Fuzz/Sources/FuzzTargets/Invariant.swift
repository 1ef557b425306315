/// Stops the process when a property the library promises does not hold, so that libFuzzer reports the input as a
/// crash and keeps it. Only the harness traps: the library itself must answer any input with a value or a typed
/// error.
func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz invariant: \(message())") }
}
