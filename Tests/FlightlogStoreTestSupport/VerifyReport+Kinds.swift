public import FlightlogStore

extension VerifyReport {
    /// The kinds of finding the report holds.
    public var kinds: Set<VerifyFinding.Kind> { Set(self.findings.map(\.kind)) }

    /// The first finding of `kind`.
    public func first(_ kind: VerifyFinding.Kind) -> VerifyFinding? { self.findings.first { $0.kind == kind } }
}
