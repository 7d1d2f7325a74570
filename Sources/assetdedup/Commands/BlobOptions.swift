import ArgumentParser
import BlobStore
import Foundation
import S3
import S3BlobStore

/// `--blobs`: where blobs live. The composition root for blob storage, as `StoreOptions` is for
/// the database: the data folder's `blobs/` by default, or `s3://BUCKET/PREFIX` (endpoint,
/// region and credentials from the environment, see `S3BlobStorage`).
struct BlobOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Blob storage: default <data>/blobs; s3://BUCKET/PREFIX for an S3-compatible bucket (env: ASSETDEDUP_BLOBS).",
            valueName: "LOCATION"))
    var blobs: String?

    /// The configured value, or `ASSETDEDUP_BLOBS`, or nil for the data folder.
    var location: String? {
        blobs ?? ProcessInfo.processInfo.environment["ASSETDEDUP_BLOBS"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Opens the blob storage; uploads are always staged under `<data>/tmp`. `readOnly` creates
    /// no folder (dry runs).
    func open(dataDirectory: String, readOnly: Bool = false) throws -> any BlobStorage {
        guard let location else { return try BlobStore(dataDirectory: dataDirectory, creatingFolders: !readOnly) }
        guard location.hasPrefix("s3://") else {
            throw ValidationError("--blobs must be s3://BUCKET/PREFIX (or left out for <data>/blobs), got '\(location)'")
        }
        let environment = ProcessInfo.processInfo.environment
        let client: S3Client
        do {
            client = try S3Client.fromEnvironment(environment)
        } catch let error as S3Error {
            throw ValidationError("--blobs \(location): \(error.message)")
        }
        return try S3BlobStorage(
            location: location, client: client, endpoint: client.endpoint.url,
            staging: BlobStore(dataDirectory: dataDirectory, creatingFolders: !readOnly))
    }
}
