/// Why rules could not be loaded from a path given to ``SigmaRule/load(paths:)``.
public enum SigmaLoadError: Error, Equatable, CustomStringConvertible {
    /// Nothing exists at the path.
    case missing(String)
    /// The path exists and holds no `*.yml` or `*.yaml` file, in it or in any folder under it.
    case noRuleFiles(String)
    /// The folder could not be listed.
    case unreadable(String)

    public var description: String {
        switch self {
        case .missing(let path): "no file or folder at \(path)"
        case .noRuleFiles(let path): "no Sigma rule (*.yml, *.yaml) in \(path) or any folder under it"
        case .unreadable(let path): "cannot list the folder \(path)"
        }
    }
}
