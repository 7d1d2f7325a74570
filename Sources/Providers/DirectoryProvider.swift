import AssetDedupCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Copies blobs into a folder as `<sha256[0..2]>/<sha256>`; the relative path is the provider id.
///
/// Hard link when the folder is on the blob store's file system, copy otherwise; written to a
/// temp name and renamed, so a reader never sees half a file. The same content twice is a no-op.
public struct DirectoryProvider: Provider {
    public let id: ProviderID
    public var kind: String { "directory" }
    public let root: String

    public init(id: ProviderID, root: String) {
        self.id = id
        self.root = root
    }

    public func upload(_ blob: BlobReference) throws -> String {
        let relative = "\(blob.sha256.hex.prefix(2))/\(blob.sha256.hex)"
        let target = "\(root)/\(relative)"
        let folder = "\(root)/\(blob.sha256.hex.prefix(2))"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw failure("cannot create \(folder): \(error.localizedDescription)")
        }
        if access(target, F_OK) == 0 { return relative }
        let temp = "\(folder)/.\(blob.sha256.hex).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp"
        if link(blob.path, temp) != 0 {
            do {
                try FileManager.default.copyItem(atPath: blob.path, toPath: temp)
            } catch {
                unlink(temp)
                throw failure("cannot copy into \(folder): \(error.localizedDescription)")
            }
        }
        guard rename(temp, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw failure("cannot publish \(relative): \(reason)")
        }
        return relative
    }

    public func health() -> ProviderHealth {
        var info = stat()
        return stat(root, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR && access(root, W_OK) == 0
            ? .ok : .unavailable
    }

    private func failure(_ message: String) -> ProviderError {
        ProviderError(provider: id, retryable: true, message: message)
    }
}
