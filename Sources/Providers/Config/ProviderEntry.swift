import AssetDedupCore

/// One entry of the config file's `providers` list, as written, before validation.
///
/// Unknown keys are refused (a misspelt `"timout"` would otherwise be silently ignored).
struct ProviderEntry: Decodable {
    /// A secret request header: the value is `prefix` + the environment variable `env`.
    struct Header: Decodable {
        let header: String
        let env: String
        let prefix: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: ConfigKey.self)
            let keys = container.allKeys.map(\.stringValue)
            if keys.contains("value") {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription:
                            "header values come from an environment variable (\"env\"), never from the config file"))
            }
            if let unknown = keys.sorted().first(where: { !["header", "env", "prefix"].contains($0) }) {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "unknown key \"\(unknown)\""))
            }
            header = try container.decode(String.self, forKey: ConfigKey("header"))
            env = try container.decode(String.self, forKey: ConfigKey("env"))
            prefix = try container.decodeIfPresent(String.self, forKey: ConfigKey("prefix"))
        }
    }

    let id: String
    let kind: String
    let path: String?
    let url: String?
    let mode: String?
    let field: String?
    let fields: [String: String]?
    let headers: [Header]?
    let idPath: String?
    let connectTimeout: Double?
    let timeout: Double?
    let maxAttempts: Int?
    let backoffInitial: Double?
    let backoffMax: Double?
    let retryAfterMax: Double?
    let retryBudget: Double?
    let healthURL: String?
    let presenceURL: String?
    let bucket: String?
    let prefix: String?
    let endpoint: String?
    let region: String?
    let accessKeyIDEnv: String?
    let secretAccessKeyEnv: String?

    let accept: [String]?
    let onDelete: String?

    /// Keys every kind takes: what it accepts, what a purge does to its copy.
    static let policyKeys: Set<String> = ["accept", "on_delete"]
    static let directoryKeys: Set<String> = ["id", "kind", "path"]
    static let httpKeys: Set<String> = [
        "id", "kind", "url", "mode", "field", "fields", "headers", "id_path", "connect_timeout", "timeout",
        "max_attempts", "backoff_initial", "backoff_max", "retry_after_max", "retry_budget", "health_url",
        "presence_url",
    ]
    /// Credentials come from environment variables named here (default `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`), never from the file.
    static let s3Keys: Set<String> = [
        "id", "kind", "bucket", "prefix", "endpoint", "region", "access_key_id_env", "secret_access_key_env",
        "max_attempts", "retry_budget",
    ]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: ConfigKey.self)
        let known = Self.directoryKeys.union(Self.httpKeys).union(Self.s3Keys).union(Self.policyKeys)
        if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown key \"\(unknown)\""))
        }
        func value<T: Decodable>(_ name: String) throws -> T? {
            try container.decodeIfPresent(T.self, forKey: ConfigKey(name))
        }
        id = try container.decode(String.self, forKey: ConfigKey("id"))
        kind = try container.decode(String.self, forKey: ConfigKey("kind"))
        path = try value("path")
        url = try value("url")
        mode = try value("mode")
        field = try value("field")
        fields = try value("fields")
        headers = try value("headers")
        idPath = try value("id_path")
        connectTimeout = try value("connect_timeout")
        timeout = try value("timeout")
        maxAttempts = try value("max_attempts")
        backoffInitial = try value("backoff_initial")
        backoffMax = try value("backoff_max")
        retryAfterMax = try value("retry_after_max")
        retryBudget = try value("retry_budget")
        healthURL = try value("health_url")
        presenceURL = try value("presence_url")
        bucket = try value("bucket")
        prefix = try value("prefix")
        endpoint = try value("endpoint")
        region = try value("region")
        accessKeyIDEnv = try value("access_key_id_env")
        secretAccessKeyEnv = try value("secret_access_key_env")
        accept = try value("accept")
        onDelete = try value("on_delete")
        presentKeys = Set(container.allKeys.map(\.stringValue))
    }

    let presentKeys: Set<String>
}

/// Any key, so that decoding can see every key present and refuse the unknown ones.
struct ConfigKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
