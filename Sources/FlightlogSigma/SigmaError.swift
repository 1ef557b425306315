/// Why a Sigma rule, or part of one, cannot be read: said in plain words under the rule by `hunt`.
public struct SigmaError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
