import ArgumentParser
import AssetDedupCore
import Foundation
import StoreProtocols

/// `assetdedup whereis SHA256|ASSET_ID`: which providers hold it (git-annex `whereis`).
struct WhereisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whereis",
        abstract: "List the providers holding an asset, by sha256 (every user's copy unless --user) or by asset id.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "A sha256 (64 hex) or an asset id.") var key: String
    @Option(help: "Only this user's asset.") var user: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    func validate() throws {
        if (try? SHA256Digest(parsing: key)) == nil && (try? AssetID(parsing: key)) == nil {
            throw ValidationError("'\(key)' is neither a sha256 (64 hex characters) nor an asset id")
        }
    }

    func run() throws {
        let store = try options.openMigratedStore()
        let owner = try user.map { try store.requireUser(named: $0) }
        let assets: [Asset]
        if let digest = try? SHA256Digest(parsing: key) {
            assets = try store.assets(sha256: digest, user: owner?.id)
        } else {
            let id = try AssetID(parsing: key)
            assets =
                try store.anyUsersAsset(id: id).map { [$0] }?.filter { owner == nil || $0.userID == owner?.id }
                ?? []
        }
        guard !assets.isEmpty else {
            throw CLIError(
                "no asset \(key.count == 64 ? "with sha256 \(key.lowercased())" : key)\(user.map { " for user '\($0)'" } ?? "")"
            )
        }
        let located = try assets.map { asset in
            WhereisAsset(
                asset: asset, userName: try store.user(id: asset.userID)?.name ?? "?",
                uploads: try store.uploadRecords(of: asset.id))
        }
        print(json ? try WhereisAsset.json(located) : located.map(\.text).joined(separator: "\n"))
    }
}

/// One asset and its provider records, as `whereis` prints them.
struct WhereisAsset: Encodable {
    struct Location: Encodable {
        let providerID: String
        let providerAssetID: String
        let uploadedAt: String
        enum CodingKeys: String, CodingKey {
            case providerID = "provider_id"
            case providerAssetID = "provider_asset_id"
            case uploadedAt = "uploaded_at"
        }
    }

    let assetID: Int64
    let user: String
    let sha256: String?
    let size: Int64
    let originalFilename: String?
    let providers: [Location]

    enum CodingKeys: String, CodingKey {
        case assetID = "asset_id"
        case user, sha256, size
        case originalFilename = "original_filename"
        case providers
    }

    init(asset: Asset, userName: String, uploads: [ProviderUpload]) {
        assetID = asset.id.rawValue
        user = userName
        sha256 = asset.sha256?.hex
        size = asset.size
        originalFilename = asset.originalFilename
        providers = uploads.map {
            Location(providerID: $0.providerID.rawValue, providerAssetID: $0.providerAssetID, uploadedAt: $0.uploadedAt)
        }
    }

    /// `asset 12 of alice (1048576 bytes, sha256 ...): 2 providers` and one line per provider.
    var text: String {
        let count =
            providers.isEmpty ? "on no provider" : "\(providers.count) provider\(providers.count == 1 ? "" : "s")"
        var lines = ["asset \(assetID) of \(user) (\(size) bytes, sha256 \(sha256 ?? "none")): \(count)"]
        let width = providers.map(\.providerID.count).max() ?? 0
        for place in providers {
            lines.append(
                "  \(place.providerID.padding(toLength: width, withPad: " ", startingAt: 0))  \(place.providerAssetID)  \(place.uploadedAt)"
            )
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ assets: [WhereisAsset]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(["assets": assets]), as: UTF8.self)
    }
}
