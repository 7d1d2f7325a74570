import ArgumentParser
import Providers

/// `--config FILE` and `--data DIR`, shared by the commands that reach providers.
struct ProviderOptions: ParsableArguments {
    @Option(
        help: "Provider config file (JSON); default: directory providers pixverse and runway under <data>/providers/.")
    var config: String?
    @Option(help: "Data folder holding blobs/ (and the default providers/).")
    var data: String = "var"

    /// The registry, validated in full: a bad entry stops the command with the file and entry named.
    func loadProviders() throws -> ProviderConfig {
        try config.map { try ProviderConfig(contentsOf: $0) } ?? ProviderConfig.defaults(dataDirectory: data)
    }
}
