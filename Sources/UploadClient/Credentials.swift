import Foundation

/// Where the server URL and the token come from. The token is never a flag value (it would
/// show in `ps`): `--token-file`, else `ASSETDEDUP_TOKEN`, else the config file
/// `$XDG_CONFIG_HOME/assetdedup/upload.json` (`~/.config/...`), `{"server": ..., "token": ...}`.
public struct Credentials: Sendable, Equatable {
    public var server: String
    public var token: String

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    public static func configPath(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/assetdedup/upload.json" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.config/assetdedup/upload.json" }
        return nil
    }

    public static func resolve(server: String?, tokenFile: String?, environment: [String: String]) throws -> Credentials {
        var config: [String: Any] = [:]
        if let path = configPath(environment: environment), FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path),
                let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            else { throw Problem(description: "\(path) is not a JSON object") }
            config = object
        }
        var token: String?
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw Problem(description: "cannot read the token file \(tokenFile)")
            }
            token = String(decoding: data, as: UTF8.self)
        } else if let env = environment["ASSETDEDUP_TOKEN"], !env.isEmpty {
            token = env
        } else {
            token = config["token"] as? String
        }
        let trimmed = token?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !trimmed.isEmpty else {
            throw Problem(description: "no token: use --token-file, ASSETDEDUP_TOKEN or \(configPath(environment: environment) ?? "upload.json")")
        }
        guard let url = server ?? (config["server"] as? String), !url.isEmpty else {
            throw Problem(description: "no server: use --server URL or \"server\" in the config file")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw Problem(description: "the server must be an http:// or https:// URL: \(url)")
        }
        return Credentials(server: url, token: trimmed)
    }
}
