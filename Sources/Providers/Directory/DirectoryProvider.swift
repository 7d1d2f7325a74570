import AssetDedupCore
import BlobProtocols
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Copies blobs into a folder as `<sha256[0..2]>/<sha256>`; the relative path is the provider id.
///
/// Always a verified copy of its own (never a hard link or a reflink of the blob: a copy that
/// shares the blob's inode or extents is not a second copy, since one damaged block is in
/// both); written to a temp name, fsynced and renamed, so a reader never sees half a file and a
/// crash never leaves a short one. The same content twice is a no-op. Copies are published
/// read-only (0444).
public struct DirectoryProvider: Provider {
    public let id: ProviderID
    public var kind: String { "directory" }
    public let root: String

    public init(id: ProviderID, root: String) {
        self.id = id
        self.root = root
    }

    public var target: String { root }

    /// The provider asset id: the path below `root`.
    public static func relativePath(for digest: SHA256Digest) -> String {
        "\(digest.hex.prefix(2))/\(digest.hex)"
    }

    public func presence(of blob: BlobReference) throws -> ProviderPresence {
        let relative = Self.relativePath(for: blob.sha256)
        return holds(blob, at: "\(root)/\(relative)") ? .present(providerAssetID: relative) : .absent
    }

    public var canDelete: Bool { true }

    public func fetchCopy(sha256: SHA256Digest, providerAssetID: String, to path: String) throws -> Bool {
        let source = "\(root)/\(Self.relativePath(for: sha256))"
        guard access(source, F_OK) == 0 else { return false }
        do {
            try FileManager.default.copyItem(atPath: source, toPath: path)
        } catch {
            throw failure("cannot copy \(source): \(error)", retryable: false)
        }
        return true
    }

    /// Reads the copy and hashes it: a local folder is always read whole.
    public func verify(sha256: SHA256Digest, size: Int64, providerAssetID: String, deep: Bool) -> ProviderCopyCheck {
        let target = "\(root)/\(Self.relativePath(for: sha256))"
        guard access(target, F_OK) == 0 else { return .missing }
        do {
            let (digest, length) = try LocalFiles.sha256(ofFile: target)
            if digest == sha256 { return .ok }
            return .corrupt("\(length) bytes hashing to \(digest.hex)")
        } catch {
            return .unreachable("\(error)")
        }
    }

    /// Removes `<root>/<ab>/<sha256>`; one already gone is fine.
    public func delete(sha256: SHA256Digest, providerAssetID: String) throws {
        let target = "\(root)/\(Self.relativePath(for: sha256))"
        guard unlink(target) == 0 || errno == ENOENT else {
            throw failure("cannot remove \(target): \(String(cString: strerror(errno)))")
        }
    }

    public func upload(_ blob: BlobReference) throws -> String {
        let relative = Self.relativePath(for: blob.sha256)
        let target = "\(root)/\(relative)"
        if holds(blob, at: target) { return relative }
        var source = stat()
        guard stat(blob.path, &source) == 0 else {
            throw failure("blob \(blob.path) is not readable: \(String(cString: strerror(errno)))", retryable: false)
        }
        let folder = "\(root)/\(blob.sha256.hex.prefix(2))"
        do { try FileSystem.makeDirectories(folder) } catch { throw failure("\(error)") }
        let temp = "\(folder)/.\(blob.sha256.hex).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp"
        do {
            try VerifiedFileCopy.copy(from: blob.path, to: temp, expecting: blob.sha256)
            try FileSystem.rename(temp, to: target)
            try FileSystem.syncDirectory(folder)
        } catch let error as VerifiedFileCopy.Mismatch {
            unlink(temp)
            throw failure("\(error)", retryable: false)
        } catch {
            unlink(temp)
            throw failure("cannot publish \(relative): \(error)")
        }
        return relative
    }

    /// `ok` when the folder (or, before the first upload, its nearest existing parent) is a
    /// writable directory: the provider creates the folder on first use.
    public func health() -> ProviderHealth {
        var path = root.isEmpty ? "." : root
        while true {
            var info = stat()
            if stat(path, &info) == 0 {
                return (info.st_mode & S_IFMT) == S_IFDIR && access(path, W_OK | X_OK) == 0 ? .ok : .unavailable
            }
            guard errno == ENOENT, let slash = path.lastIndex(of: "/") else {
                return errno == ENOENT && access(".", W_OK) == 0 ? .ok : .unavailable
            }
            path = slash == path.startIndex ? "/" : String(path[..<slash])
        }
    }

    /// The target exists with the blob's size: content-addressed and published by rename, so
    /// the bytes are the blob's. A file of another size (damaged by hand) is replaced.
    private func holds(_ blob: BlobReference, at target: String) -> Bool {
        var info = stat()
        return stat(target, &info) == 0 && Int64(info.st_size) == blob.size
    }

    private func failure(_ message: String, retryable: Bool = true) -> ProviderError {
        ProviderError(provider: id, retryable: retryable, message: message)
    }
}
