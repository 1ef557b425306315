/// Everything a ``Tailer`` needs to resume exactly after the last line it handed out.
///
/// The owner versions and stores it (next to the batch holding the lines up to these offsets).
public struct TailerState: Codable, Sendable, Equatable {
    /// One cursor per tracked file.
    public var files: [FileCursor]

    /// Creates a state from its cursors.
    public init(files: [FileCursor] = []) {
        self.files = files
    }
}
