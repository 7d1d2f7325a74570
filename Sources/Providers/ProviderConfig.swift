import AssetDedupCore
import Foundation

/// The providers section of the config file (`--config FILE`, JSON).
///
/// ```json
/// {"providers": [{"id": "pixverse", "kind": "directory", "path": "var/providers/pixverse"}]}
/// ```
/// Relative paths are resolved against the config file's folder.
public struct ProviderConfig: Sendable {
    public struct Entry: Decodable, Sendable {
        public let id: String
        public let kind: String
        public let path: String?
    }

    private struct File: Decodable { let providers: [Entry] }

    public let providers: [any Provider]

    /// The embedded default: two directory providers under `<data>/providers/`.
    public static func defaults(dataDirectory: String) -> ProviderConfig {
        ProviderConfig(providers: ["pixverse", "runway"].map {
            DirectoryProvider(id: try! ProviderID(parsing: $0), root: "\(dataDirectory)/providers/\($0)")
        })
    }

    public init(providers: [any Provider]) { self.providers = providers }

    /// Loads and validates the file; every problem is an error naming the file and the entry.
    public init(contentsOf path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ConfigError("\(path): cannot read: \(error.localizedDescription)")
        }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw ConfigError("\(path): not a valid config: \(error)")
        }
        let base = (path as NSString).deletingLastPathComponent
        var seen = Set<String>()
        var providers: [any Provider] = []
        for entry in file.providers {
            let id: ProviderID
            do { id = try ProviderID(parsing: entry.id) } catch {
                throw ConfigError("\(path): provider '\(entry.id)': \(error.message)")
            }
            guard seen.insert(entry.id).inserted else { throw ConfigError("\(path): provider '\(entry.id)' is defined twice") }
            switch entry.kind {
            case "directory":
                guard let folder = entry.path, !folder.isEmpty else {
                    throw ConfigError("\(path): provider '\(entry.id)': kind directory needs a \"path\"")
                }
                providers.append(DirectoryProvider(id: id, root: folder.hasPrefix("/") ? folder : "\(base.isEmpty ? "." : base)/\(folder)"))
            default:
                throw ConfigError("\(path): provider '\(entry.id)': unknown kind '\(entry.kind)' (known: directory)")
            }
        }
        self.providers = providers
    }

    public func provider(_ id: ProviderID) -> (any Provider)? { providers.first { $0.id == id } }
}

/// A config file problem, with the file and entry named.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
