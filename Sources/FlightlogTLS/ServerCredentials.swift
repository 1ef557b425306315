import FlightlogSystem
import Foundation
public import NIOSSL
import SwiftASN1
import Synchronization
public import X509

/// The aggregator's certificate chain and private key, read from PEM files into a TLS 1.3 server context, and read
/// again when they change: a renewed certificate serves new connections while sessions already open keep theirs.
public final class ServerCredentials: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let state: Mutex<State>

    private struct State {
        var context: NIOSSLContext
        var stamp: FileStamp
        var leaf: Certificate
    }

    /// What identifies a version of the two files: a replaced file (renamed into place) has another inode; one
    /// written in place another size or time.
    struct FileStamp: Equatable {
        var certificate: [Int]
        var key: [Int]
    }

    /// Reads both files; throws with the file and the reason when they cannot serve.
    public init(certificatePath: String, keyPath: String) throws(TLSError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        let (context, leaf) = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
        self.state = Mutex(State(context: context, stamp: Self.stamp(certificatePath, keyPath), leaf: leaf))
    }

    /// The context new connections use.
    public var context: NIOSSLContext { self.state.withLock { $0.context } }

    /// The certificate served now (the first of the chain).
    public var leaf: Certificate { self.state.withLock { $0.leaf } }

    /// Reads the files again when they changed since they were last read. Returns true when the served certificate
    /// changed; throws (and keeps serving the previous one) when the new files cannot serve.
    @discardableResult
    public func reloadIfChanged() throws(TLSError) -> Bool {
        let stamp = Self.stamp(self.certificatePath, self.keyPath)
        guard stamp != self.state.withLock({ $0.stamp }) else { return false }
        return try self.reload(stamp: stamp)
    }

    /// Reads the files again (SIGHUP).
    @discardableResult
    public func reload() throws(TLSError) -> Bool {
        try self.reload(stamp: Self.stamp(self.certificatePath, self.keyPath))
    }

    private func reload(stamp: FileStamp) throws(TLSError) -> Bool {
        let (context, leaf) = try Self.load(certificatePath: self.certificatePath, keyPath: self.keyPath)
        return self.state.withLock { state in
            let changed = state.leaf != leaf
            state = State(context: context, stamp: stamp, leaf: leaf)
            return changed
        }
    }

    private static func stamp(_ certificate: String, _ key: String) -> FileStamp {
        func of(_ path: String) -> [Int] {
            guard let info = FileStatus.of(path: path) else { return [] }
            return [Int(truncatingIfNeeded: info.inode), Int(clamping: info.size), Int(info.modifiedNanos)]
        }
        return FileStamp(certificate: of(certificate), key: of(key))
    }

    /// A TLS 1.3 server context for the chain in `certificatePath` and the key in `keyPath`.
    static func load(certificatePath: String, keyPath: String) throws(TLSError) -> (NIOSSLContext, Certificate) {
        for path in [certificatePath, keyPath] where !FileManager.default.isReadableFile(atPath: path) {
            throw TLSError.badFile(
                path: path,
                reason: FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions)" : "does not exist"
            )
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw TLSError.badFile(path: certificatePath, reason: "not a PEM certificate chain (\(error))")
        }
        guard let first = chain.first else {
            throw TLSError.badFile(path: certificatePath, reason: "holds no certificate")
        }
        let key: NIOSSLPrivateKey
        let keyText: String
        do {
            keyText = try String(contentsOfFile: keyPath, encoding: .utf8)
            key = try NIOSSLPrivateKey(bytes: Array(keyText.utf8), format: .pem)
        } catch {
            throw TLSError.badFile(path: keyPath, reason: "not a PEM private key (\(error))")
        }
        let leaf: Certificate
        do {
            leaf = try Certificate(derEncoded: try first.toDERBytes())
            let parsedKey = try Certificate.PrivateKey(pemEncoded: keyText)
            guard parsedKey.publicKey == leaf.publicKey else {
                throw TLSError.keyMismatch(certificate: certificatePath, key: keyPath)
            }
        } catch let error as TLSError {
            throw error
        } catch {
            throw TLSError.badFile(path: keyPath, reason: "cannot be read as a certificate's key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv13
        do {
            return (try NIOSSLContext(configuration: configuration), leaf)
        } catch {
            throw TLSError.badFile(path: certificatePath, reason: "cannot serve TLS with it (\(error))")
        }
    }
}
