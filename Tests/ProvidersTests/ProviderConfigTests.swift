import AssetDedupCore
import Foundation
import Testing

@testable import Providers

@Suite("config file: the provider registry and its validation")
struct ProviderConfigTests {
    static let environment = ["RUNWAY_TOKEN": "sk-live-abcdef123456", "EMPTY": ""]

    static func load(_ json: String, environment: [String: String] = environment) throws -> ProviderConfig {
        try ProviderConfig(json: Data(json.utf8), file: "/etc/assetdedup/providers.json", environment: environment)
    }

    @Test("a valid file: both kinds, relative paths anchored at the file, http settings read")
    func validFile() throws {
        let config = try Self.load(
            """
            {"providers": [
              {"id": "pixverse", "kind": "directory", "path": "store/pixverse"},
              {"id": "runway", "kind": "http", "url": "https://api.example.com/v1/assets?team=7", "mode": "put",
               "id_path": "asset.id", "headers": [{"header": "Authorization", "env": "RUNWAY_TOKEN", "prefix": "Bearer "}],
               "connect_timeout": 3, "timeout": 120, "max_attempts": 5, "backoff_initial": 1, "backoff_max": 20,
               "retry_after_max": 30, "retry_budget": 400}
            ]}
            """)
        #expect(config.providers.map(\.id.rawValue) == ["pixverse", "runway"])
        #expect(config.providers.map(\.kind) == ["directory", "http"])
        let directory = try #require(config.provider(slug("pixverse")) as? DirectoryProvider)
        #expect(directory.root == "/etc/assetdedup/store/pixverse")
        let http = try #require(config.provider(slug("runway")) as? HTTPProvider)
        #expect(http.target == "https://api.example.com/v1/assets")
        #expect(http.settings.mode == .put)
        #expect(http.settings.idPath == JSONKeyPath("asset.id"))
        #expect(http.settings.headers.map(\.line) == ["Authorization: Bearer sk-live-abcdef123456"])
        #expect(http.settings.connectTimeout == 3 && http.settings.timeout == 120)
        #expect(
            http.settings.retry
                == RetryPolicy(maxAttempts: 5, initialDelay: 1, maxDelay: 20, retryAfterCap: 30, budget: 400))
    }

    @Test(
        "every problem names the file and the entry, and never an environment value",
        arguments: [
            (
                #"{"providers": [{"id": "x", "kind": "ftp"}]}"#,
                "provider 'x' (providers[0]): unknown kind 'ftp' (known: directory, http, s3)"
            ),
            (
                #"{"providers": [{"id": "x", "kind": "directory"}]}"#,
                "provider 'x' (providers[0]): kind directory needs a \"path\""
            ),
            (
                #"{"providers": [{"id": "x", "kind": "http"}]}"#,
                "provider 'x' (providers[0]): kind http needs a \"url\""
            ),
            (
                #"{"providers": [{"id": "Bad Slug", "kind": "directory", "path": "p"}]}"#,
                "provider 'Bad Slug' (providers[0]): provider_id must be a slug"
            ),
            (
                #"{"providers": [{"id": "a", "kind": "directory", "path": "p"}, {"id": "a", "kind": "directory", "path": "q"}]}"#,
                "provider 'a' (providers[1]) is defined twice"
            ),
            (
                #"{"providers": [{"id": "h", "kind": "http", "url": "https://x.test/", "headers": [{"header": "Authorization", "env": "NOPE_TOKEN"}]}]}"#,
                "provider 'h' (providers[0]): header Authorization: environment variable NOPE_TOKEN is not set"
            ),
            (
                #"{"providers": [{"id": "h", "kind": "http", "url": "https://x.test/", "headers": [{"header": "X-Key", "env": "EMPTY"}]}]}"#,
                "provider 'h' (providers[0]): header X-Key: environment variable EMPTY is empty"
            ),
            (
                #"{"providers": [{"id": "h", "kind": "http", "url": "https://x.test/", "headers": [{"header": "X-Key", "value": "inline"}]}]}"#,
                "providers[0].headers[0]: header values come from an environment variable (\"env\"), never from the config file"
            ),
            (
                #"{"providers": [{"id": "h", "kind": "http", "url": "https://x.test/", "timout": 5}]}"#,
                "providers[0]: unknown key \"timout\""
            ),
            (
                #"{"providers": [{"id": "d", "kind": "directory", "path": "p", "url": "https://x.test/"}]}"#,
                "provider 'd' (providers[0]): \"url\" does not apply to kind directory"
            ),
            (
                #"{"providers": [{"id": "h", "kind": "http", "url": "ftp://x.test/"}]}"#,
                "\"url\" must be an http:// or https:// URL"
            ),
            (#"{"providers": [{"id": "h", "kind": "http", "url": "https://me:pw@x.test/"}]}"#, "no user:password"),
            (
                #"{"providers": [{"id": "h", "kind": "http", "url": "https://x.test/", "mode": "patch"}]}"#,
                "\"mode\" must be \"multipart\" or \"put\""
            ),
            (
                #"{"providers": [{"id": "h", "kind": "http", "url": "https://x.test/", "timeout": -1}]}"#,
                "\"timeout\" must be seconds"
            ),
            (
                #"{"providers": [{"id": "h", "kind": "http", "url": "https://x.test/", "id_path": "a..b"}]}"#,
                "\"id_path\" must be dotted keys"
            ),
            (#"{"providers": [{"kind": "directory", "path": "p"}]}"#, "providers[0]: missing \"id\""),
            (
                #"{"providers": [{"id": "h", "kind": "http", "url": "https://x.test/", "timeout": "soon"}]}"#,
                "providers[0].timeout: expected a number"
            ),
            (#"{"providers": {}}"#, "providers: expected a list"),
            (#"{"providers": [}"#, "not valid JSON"),
            (#"{}"#, "missing \"providers\""),
            (
                #"{"providers": [{"id": "h", "kind": "http", "url": "https://x.test/", "presence_url": "https://x.test/copies"}]}"#,
                "\"presence_url\" must name the copy with {id} or {sha256}"
            ),
            (
                #"{"providers": [{"id": "d", "kind": "directory", "path": "p", "presence_url": "https://x.test/{id}"}]}"#,
                "\"presence_url\" does not apply to kind directory"
            ),
            (
                #"{"providers": [{"id": "d", "kind": "directory", "path": "p"}], "min_copies": 2}"#,
                "\"min_copies\" must be between 0 and the number of providers (1), got 2"
            ),
        ])
    func problems(json: String, expected: String) throws {
        let error = try #require(throws: ConfigError.self) { try Self.load(json) }
        #expect(error.description.hasPrefix("/etc/assetdedup/providers.json: "))
        #expect(error.description.contains(expected), "\(error)")
        #expect(!error.description.contains("sk-live"))
    }

    @Test("min_copies and presence_url are read; the presence URL names the copy, percent-encoded")
    func integrityKeys() throws {
        let config = try Self.load(
            """
            {"min_copies": 2, "providers": [
              {"id": "pixverse", "kind": "directory", "path": "p"},
              {"id": "cloud", "kind": "http", "url": "https://x.test/up", "presence_url": "https://x.test/copies/{id}?h={sha256}"}
            ]}
            """)
        #expect(config.minCopies == 2)
        #expect(try Self.load(#"{"providers": []}"#).minCopies == 0)
        let http = try #require(config.provider(slug("cloud")) as? HTTPProvider)
        #expect(http.settings.presenceURL == "https://x.test/copies/{id}?h={sha256}")
        let digest = SHA256Digest(bytes: [UInt8](repeating: 0xab, count: 32))
        #expect(
            HTTPProvider.presenceURL(http.settings.presenceURL!, providerAssetID: "a b/c?d", sha256: digest)
                == "https://x.test/copies/a%20b%2Fc%3Fd?h=\(digest.hex)")
    }

    @Test("a secret with a line break is refused without printing it")
    func headerInjection() throws {
        let json =
            #"{"providers": [{"id": "h", "kind": "http", "url": "https://x.test/", "headers": [{"header": "Authorization", "env": "T"}]}]}"#
        let error = try #require(throws: ConfigError.self) {
            try Self.load(json, environment: ["T": "abc123\r\nX-Evil: 1"])
        }
        #expect(error.description.contains("contains a line break"))
        #expect(!error.description.contains("abc123"))
    }

    @Test("an unreadable file is named")
    func unreadableFile() throws {
        let error = try #require(throws: ConfigError.self) {
            try ProviderConfig(contentsOf: "/nonexistent/assetdedup.json")
        }
        #expect(error.description.hasPrefix("/nonexistent/assetdedup.json: cannot read"))
    }

    @Test("the shipped example parses with its token set")
    func shippedExample() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("templates/assetdedup.example.json").path
        let config = try ProviderConfig(contentsOf: path, environment: ["RUNWAY_TOKEN": "t"])
        #expect(config.providers.map(\.kind) == ["directory", "http"])
    }

    @Test("defaults: pixverse and runway folders under <data>/providers; unknown ids are listed")
    func defaults() throws {
        let config = ProviderConfig.defaults(dataDirectory: "var")
        #expect(
            config.providers.compactMap { ($0 as? DirectoryProvider)?.root } == [
                "var/providers/pixverse", "var/providers/runway",
            ])
        let error = try #require(throws: ConfigError.self) { try config.requireProvider("s3") }
        #expect(error.description == "no provider 's3' is configured (configured: pixverse, runway)")
        #expect(try config.requireProvider("runway").id == slug("runway"))
    }
}
