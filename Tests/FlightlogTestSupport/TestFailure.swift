/// A test that cannot go on: a reply that did not come, a file that is not there.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
