import Foundation
import Testing

/// Edits an exported bundle the way a careful forger would: files changed, and manifest.json made to match.
enum BundleFiles {
    static func read(_ bundle: String, _ file: String) throws -> Data {
        try #require(FileManager.default.contents(atPath: bundle + "/" + file))
    }

    /// Writes `data` to `file` and puts its SHA-256 and size into manifest.json.
    static func replace(_ bundle: String, _ file: String, with data: Data) throws {
        try data.write(to: URL(fileURLWithPath: bundle + "/" + file))
        try Self.rehash(bundle, file, data)
    }

    /// Replaces a file's SHA-256 (and size) in manifest.json.
    static func rehash(_ bundle: String, _ file: String, _ data: Data) throws {
        try Self.editManifest(bundle) { manifest in
            var files = manifest["files"] as? [[String: Any]] ?? []
            for index in files.indices where files[index]["path"] as? String == file {
                files[index]["sha256"] = SHA256Hex.of(data)
                files[index]["bytes"] = data.count
            }
            manifest["files"] = files
        }
    }

    /// Removes a file's entry from manifest.json, leaving the file in place.
    static func unlist(_ bundle: String, _ file: String) throws {
        try Self.editManifest(bundle) { manifest in
            manifest["files"] = (manifest["files"] as? [[String: Any]] ?? []).filter { $0["path"] as? String != file }
        }
    }

    /// Rewrites manifest.json after `edit` (it is not itself hashed: only the SHA-256 in the case notes pins it).
    static func editManifest(_ bundle: String, _ edit: (inout [String: Any]) throws -> Void) throws {
        let path = bundle + "/manifest.json"
        var manifest = try #require(
            try JSONSerialization.jsonObject(with: try Self.read(bundle, "manifest.json")) as? [String: Any]
        )
        try edit(&manifest)
        let data = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Edits the manifest entry of the batch stored in `file`.
    static func editBatchEntry(_ bundle: String, _ file: String, _ edit: (inout [String: Any]) -> Void) throws {
        try Self.editManifest(bundle) { manifest in
            var batches = try #require(manifest["batches"] as? [[String: Any]])
            let index = try #require(batches.firstIndex { $0["file"] as? String == file })
            edit(&batches[index])
            manifest["batches"] = batches
        }
    }

    /// The batch files, sorted.
    static func batchFiles(_ bundle: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: bundle + "/batches").sorted().map { "batches/" + $0 }
    }
}
