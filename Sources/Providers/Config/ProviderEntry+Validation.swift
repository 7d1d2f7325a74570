import AssetDedupCore
import S3

extension ProviderEntry {
    /// Checks the entry and builds its adapter; `context` starts every message
    /// (`FILE: provider 'ID' (providers[N])`). Messages name environment variables, never their values.
    func makeProvider(context: String, base: String, environment: [String: String]) throws -> any Provider {
        func problem(_ text: String) -> ConfigError { ConfigError("\(context): \(text)") }
        let providerID: ProviderID
        do { providerID = try ProviderID(parsing: id) } catch { throw problem(error.message) }
        let allowed: Set<String>
        switch kind {
        case "directory": allowed = Self.directoryKeys
        case "http": allowed = Self.httpKeys
        case "s3": allowed = Self.s3Keys
        default: throw problem("unknown kind '\(kind)' (known: directory, http, s3)")
        }
        if let stray = presentKeys.subtracting(allowed.union(Self.policyKeys)).sorted().first {
            throw problem("\"\(stray)\" does not apply to kind \(kind)")
        }
        if kind == "directory" {
            guard let folder = path, !folder.isEmpty else { throw problem("kind directory needs a \"path\"") }
            return DirectoryProvider(id: providerID, root: folder.hasPrefix("/") ? folder : "\(base)/\(folder)")
        }
        if kind == "s3" { return try s3Provider(providerID, problem: problem, environment: environment) }
        return HTTPProvider(id: providerID, settings: try httpSettings(problem: problem, environment: environment))
    }

    /// An `s3` entry: bucket required; endpoint, region and credentials default to the S3 blob
    /// storage's environment (`ASSETDEDUP_S3_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`), the credential variables renamable per provider.
    private func s3Provider(_ id: ProviderID, problem: (String) -> ConfigError, environment: [String: String]) throws
        -> S3Provider
    {
        guard let bucket, !bucket.isEmpty, !bucket.contains("/") else {
            throw problem("kind s3 needs a \"bucket\" (a name, no slashes)")
        }
        guard let url = endpoint ?? environment["ASSETDEDUP_S3_ENDPOINT"], !url.isEmpty else {
            throw problem("kind s3 needs an \"endpoint\" (or ASSETDEDUP_S3_ENDPOINT set)")
        }
        try Self.checkURL(url, key: "endpoint", problem: problem)
        func secret(_ name: String?, default fallback: String) throws -> String {
            let variable = name ?? fallback
            guard let value = environment[variable], !value.isEmpty else {
                throw problem("environment variable \(variable) is not set (S3 credentials)")
            }
            return value
        }
        let credentials = S3Credentials(
            accessKeyID: try secret(accessKeyIDEnv, default: "AWS_ACCESS_KEY_ID"),
            secretAccessKey: try secret(secretAccessKeyEnv, default: "AWS_SECRET_ACCESS_KEY"))
        let client = S3Client(
            endpoint: S3Endpoint(url: url, region: region ?? environment["AWS_REGION"] ?? "us-east-1"),
            credentials: credentials)
        var retry = RetryPolicy(budget: 3600)
        if let maxAttempts {
            guard (1...20).contains(maxAttempts) else {
                throw problem("\"max_attempts\" must be 1 to 20, got \(maxAttempts)")
            }
            retry.maxAttempts = maxAttempts
        }
        if let retryBudget {
            guard retryBudget > 0, retryBudget <= 86_400 else {
                throw problem("\"retry_budget\" must be seconds between 0 and 86400, got \(retryBudget)")
            }
            retry.budget = retryBudget
        }
        return S3Provider(
            id: id, client: client, endpoint: url, bucket: bucket, prefix: prefix ?? "", retry: retry)
    }

    private func httpSettings(problem: (String) -> ConfigError, environment: [String: String]) throws
        -> HTTPUploadSettings
    {
        guard let url, !url.isEmpty else { throw problem("kind http needs a \"url\"") }
        try Self.checkURL(url, key: "url", problem: problem)
        if let healthURL { try Self.checkURL(healthURL, key: "health_url", problem: problem) }
        if let presenceURL {
            try Self.checkURL(presenceURL, key: "presence_url", problem: problem)
            guard presenceURL.contains("{id}") || presenceURL.contains("{sha256}") else {
                throw problem("\"presence_url\" must name the copy with {id} or {sha256}, got '\(presenceURL)'")
            }
        }
        var settings = HTTPUploadSettings(url: url, healthURL: healthURL)
        settings.presenceURL = presenceURL
        if let mode {
            guard let parsed = HTTPUploadSettings.Mode(rawValue: mode) else {
                throw problem("\"mode\" must be \"multipart\" or \"put\", got '\(mode)'")
            }
            settings.mode = parsed
        }
        if let field {
            guard Self.isToken(field) else {
                throw problem("\"field\" must be a plain form field name, got '\(field)'")
            }
            settings.fileField = field
        }
        for (name, value) in fields ?? [:] where !Self.isToken(name) || value.contains(where: \.isNewline) {
            throw problem("\"fields\": '\(name)' must be a plain name with a one-line value")
        }
        settings.fields = fields ?? [:]
        if let idPath {
            guard let parsed = JSONKeyPath(idPath) else {
                throw problem("\"id_path\" must be dotted keys like data.id, got '\(idPath)'")
            }
            settings.idPath = parsed
        }
        settings.headers = try (headers ?? []).map {
            try Self.secretHeader($0, problem: problem, environment: environment)
        }
        if Set(settings.headers.map { $0.name.lowercased() }).count != settings.headers.count {
            throw problem("a header is named twice in \"headers\"")
        }
        func seconds(_ value: Double?, _ key: String, default fallback: Double) throws -> Double {
            guard let value else { return fallback }
            guard value > 0, value <= 86_400 else {
                throw problem("\"\(key)\" must be seconds between 0 and 86400, got \(value)")
            }
            return value
        }
        settings.connectTimeout = try seconds(connectTimeout, "connect_timeout", default: settings.connectTimeout)
        settings.timeout = try seconds(timeout, "timeout", default: settings.timeout)
        var retry = RetryPolicy()
        if let maxAttempts {
            guard (1...20).contains(maxAttempts) else {
                throw problem("\"max_attempts\" must be 1 to 20, got \(maxAttempts)")
            }
            retry.maxAttempts = maxAttempts
        }
        retry.initialDelay = try seconds(backoffInitial, "backoff_initial", default: retry.initialDelay)
        retry.maxDelay = try seconds(backoffMax, "backoff_max", default: retry.maxDelay)
        retry.retryAfterCap = try seconds(retryAfterMax, "retry_after_max", default: retry.retryAfterCap)
        retry.budget = try seconds(retryBudget, "retry_budget", default: max(retry.budget, settings.timeout))
        settings.retry = retry
        return settings
    }

    private static func checkURL(_ url: String, key: String, problem: (String) -> ConfigError) throws {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), !url.contains(where: \.isWhitespace) else {
            throw problem("\"\(key)\" must be an http:// or https:// URL, got '\(url)'")
        }
        let authority =
            url.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).dropFirst(2).first ?? ""
        guard !authority.isEmpty, !authority.contains("@") else {
            throw problem(
                "\"\(key)\" must name a host and no user:password (put credentials in \"headers\" with \"env\")")
        }
    }

    private static func secretHeader(_ header: Header, problem: (String) -> ConfigError, environment: [String: String])
        throws -> SecretHeader
    {
        guard isToken(header.header) else {
            throw problem("header name '\(header.header)' is not a valid HTTP header name")
        }
        guard !header.env.isEmpty, header.env.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else {
            throw problem("header \(header.header): \"env\" must name an environment variable, got '\(header.env)'")
        }
        guard let secret = environment[header.env] else {
            throw problem("header \(header.header): environment variable \(header.env) is not set")
        }
        guard !secret.isEmpty else {
            throw problem("header \(header.header): environment variable \(header.env) is empty")
        }
        let prefix = header.prefix ?? ""
        guard !(prefix + secret).contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw problem(
                "header \(header.header): the value from \(header.env) (with its prefix) contains a line break")
        }
        return SecretHeader(name: header.header, environmentVariable: header.env, prefix: prefix, secret: secret)
    }

    /// An HTTP token (RFC 9110): what a header or form field name may be made of.
    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
                    || "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
    }
}

extension ProviderEntry {
    /// `accept` (media types or `type/*`) and `on_delete` (`keep`, or `delete` where the adapter can).
    func policy(context: String, canDelete: Bool) throws -> ProviderPolicy {
        func problem(_ text: String) -> ConfigError { ConfigError("\(context): \(text)") }
        var policy = ProviderPolicy()
        if let accept {
            for pattern in accept where !ProviderPolicy.isPattern(pattern) {
                throw problem(
                    "accept entry '\(pattern)' is not a media type or type/* (e.g. \"image/*\", \"video/mp4\")")
            }
            guard !accept.isEmpty else { throw problem("accept is empty: leave it out to accept anything") }
            policy.accept = accept.map { $0.lowercased() }
        }
        switch onDelete {
        case nil, "keep": break
        case "delete":
            guard canDelete else {
                throw problem("on_delete: delete needs a directory or s3 provider (kind \(kind) can only keep)")
            }
            policy.onDelete = .delete
        case let other?: throw problem("on_delete must be keep or delete, not '\(other)'")
        }
        return policy
    }
}
