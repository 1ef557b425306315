public import Foundation

/// Files of this checkout that tests read, found from this file's path (as swift-crypto finds its test vectors).
public enum RepositoryFiles {
    /// The checkout's root directory.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The starter Sigma rule pack operators deploy, `aggregator/rules`.
    public static var rulePack: String { Self.root.appendingPathComponent("aggregator/rules").path }

    /// `Tests/Fixtures`: files written by earlier releases.
    public static var fixtures: URL { Self.root.appendingPathComponent("Tests/Fixtures") }
}
