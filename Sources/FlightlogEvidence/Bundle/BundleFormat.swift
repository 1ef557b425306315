/// The names an evidence bundle is made of: its format identifiers and its fixed file names.
///
/// ```
/// DIR/events.jsonl        one EventJSON object a line, times in UTC
/// DIR/batches/*.flb       each batch's signed envelope, byte for byte as the agent signed it
/// DIR/keys.json           the agents' public keys, earlier keys and rotation records (``BundleKeys``)
/// DIR/checkpoint.txt      a C2SP signed-note checkpoint (origin, tree size, root) covering every batch
/// DIR/aggregator.pub      the aggregator's signed-note verifier key, name+keyhash+base64(0x01 ‖ Ed25519 key)
/// DIR/manifest.json       who, when, which filters; per batch its inclusion proof; every file's SHA-256
///                         (``BundleManifest``)
/// DIR/README.txt          what the recipient has and how to check it
/// DIR/report.html         the investigator's report (``ReportRenderer``), a view of the above; since the report
///                         was added, within format 4: listed and hashed like every other file, absent from older
///                         bundles
/// ```
public enum BundleFormat {
    /// The format this release writes. Version 4 writes the parsed columns and field keys under their ECS names
    /// (``EventJSON/Layout/current``); version 3 wrote the stored names. Version 3 writes a repeated field key once,
    /// with an array of its values (``FieldsJSON/appendForOutput(_:names:to:)``); version 2 repeated the key.
    /// Version 2 added the checkpoint, the aggregator key and the inclusion proofs.
    public static let current = "flightlog-evidence-bundle-4"
    /// Version 3: events.jsonl uses the stored names (`program`, `user`, `src_ip`…).
    public static let storedNames = "flightlog-evidence-bundle-3"
    /// Version 2: events.jsonl repeats a repeated field key, as the store holds it.
    public static let repeatingKeys = "flightlog-evidence-bundle-2"
    /// Version 1, refused: its batches carry no inclusion proofs.
    public static let withoutProofs = "flightlog-evidence-bundle-1"
    /// The formats `verify --bundle` checks.
    public static let verified = [Self.current, Self.storedNames, Self.repeatingKeys]

    /// How events.jsonl of a bundle in `format` (one of ``verified``) writes an event.
    public static func layout(_ format: String) -> EventJSON.Layout {
        switch format {
        case Self.storedNames: .storedNames
        case Self.repeatingKeys: .storedNamesRepeatingKeys
        default: .current
        }
    }

    public static let manifestFile = "manifest.json"
    public static let keysFile = "keys.json"
    public static let eventsFile = "events.jsonl"
    public static let readmeFile = "README.txt"
    /// The investigator's HTML report; optional (bundles written before it have none).
    public static let reportFile = "report.html"
    /// The version of the report's content, named in its footer: it is a view, not part of what is verified beyond
    /// its hash.
    public static let reportFormat = "flightlog-report-1"
    /// The bundle's copy of the signed checkpoint the proofs lead to.
    public static let checkpointFile = "checkpoint.txt"
    /// The bundle's copy of the aggregator's verifier key.
    public static let aggregatorKeyFile = "aggregator.pub"
    /// The folder of the signed batches.
    public static let batchesFolder = "batches"
}
