import AssetDedupCore
import Foundation

/// The configured providers, by id: the registry the server and the CLI look providers up in.
///
/// Built from the config file (`--config FILE`, JSON; see README "Providers") and validated in
/// full at start, so a typo stops the process with the file and entry named instead of failing
/// the first upload.
///
/// ```json
/// {"providers": [{"id": "pixverse", "kind": "directory", "path": "var/providers/pixverse"}]}
/// ```
/// Relative paths are resolved against the config file's folder.
public struct ProviderConfig: Sendable {
    public let providers: [any Provider]
    /// What each provider accepts and does on a purge (`accept`, `on_delete`); absent: anything, keep.
    public let policies: [ProviderID: ProviderPolicy]
    /// The minimum number of providers live content should have a good copy on (`min_copies`,
    /// top level; 0, the default, sets no minimum). `verify --repair`, `sync` and serve's
    /// repair job queue deliveries up to it; the integrity report lists content below it; a
    /// purge never deletes a copy that live content needs to stay at it (and never its last).
    public let minCopies: Int

    /// The provider's policy (the default when its entry names none).
    public func policy(_ id: ProviderID) -> ProviderPolicy { policies[id] ?? ProviderPolicy() }

    /// The embedded default: two directory providers under `<data>/providers/`.
    public static func defaults(dataDirectory: String) -> ProviderConfig {
        ProviderConfig(
            providers: ["pixverse", "runway"].map {
                DirectoryProvider(id: try! ProviderID(parsing: $0), root: "\(dataDirectory)/providers/\($0)")
            })
    }

    public init(providers: [any Provider], policies: [ProviderID: ProviderPolicy] = [:], minCopies: Int = 0) {
        self.providers = providers
        self.policies = policies
        self.minCopies = minCopies
    }

    /// Loads and validates the file; every problem is a `ConfigError` naming the file and the
    /// entry. Secret header values are read from `environment`, never from the file.
    public init(contentsOf path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ConfigError("\(path): cannot read: \(error.localizedDescription)")
        }
        try self.init(json: data, file: path, environment: environment)
    }

    /// Parses config JSON; `file` names the source in messages and anchors relative paths.
    public init(json: Data, file: String, environment: [String: String]) throws {
        let decoded: ProviderFile
        do { decoded = try JSONDecoder().decode(ProviderFile.self, from: json) } catch let error as DecodingError {
            throw ConfigError("\(file): \(ConfigError.describe(error))")
        }
        let entries = decoded.providers
        let base = (file as NSString).deletingLastPathComponent
        var seen = Set<String>()
        var providers: [any Provider] = []
        var policies: [ProviderID: ProviderPolicy] = [:]
        for (index, entry) in entries.enumerated() {
            let context = "\(file): provider '\(entry.id)' (providers[\(index)])"
            guard seen.insert(entry.id).inserted else { throw ConfigError("\(context) is defined twice") }
            let provider = try entry.makeProvider(
                context: context, base: base.isEmpty ? "." : base, environment: environment)
            policies[provider.id] = try entry.policy(context: context, canDelete: provider.canDelete)
            providers.append(provider)
        }
        let minCopies = decoded.minCopies ?? 0
        guard minCopies >= 0, minCopies <= providers.count else {
            throw ConfigError(
                "\(file): \"min_copies\" must be between 0 and the number of providers (\(providers.count)), got \(minCopies)"
            )
        }
        self.providers = providers
        self.policies = policies
        self.minCopies = minCopies
    }

    public func provider(_ id: ProviderID) -> (any Provider)? { providers.first { $0.id == id } }

    /// The provider with this id, or an error listing the ids there are.
    public func requireProvider(_ id: String) throws -> any Provider {
        if let parsed = try? ProviderID(parsing: id), let provider = provider(parsed) { return provider }
        let known = providers.map(\.id.rawValue).joined(separator: ", ")
        throw ConfigError("no provider '\(id)' is configured (configured: \(known.isEmpty ? "none" : known))")
    }
}

/// The file's top level: `{"providers": [...], "min_copies": N}`.
private struct ProviderFile: Decodable {
    let providers: [ProviderEntry]
    let minCopies: Int?

    enum CodingKeys: String, CodingKey {
        case providers
        case minCopies = "min_copies"
    }
}
