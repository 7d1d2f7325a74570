/// The routes under one prefix, matched by pattern: what the router and the metrics both use.
public struct RouteTable: Sendable {
    /// What a request's method and path come to.
    enum Match {
        /// A route; `label` is the index of its pattern in `labels`.
        case route(Route, RouteParameters, label: Int)
        /// The path fits a pattern, not with this method: 405 with `Allow`.
        case methodNotAllowed(allowed: [String], label: Int)
        /// No pattern fits: 404, counted as `other`.
        case notFound
    }

    public let prefix: String
    public let routes: [Route]
    /// Each pattern once, in table order, then `other`: the metrics' `route` label values.
    public let labels: [String]

    init(prefix: String, _ routes: [Route]) {
        self.prefix = prefix
        self.routes = routes
        var labels: [String] = []
        for route in routes where !labels.contains(route.pattern.description) {
            labels.append(route.pattern.description)
        }
        precondition(!labels.contains("other"), "`other` is the label of unknown paths")
        self.labels = labels + ["other"]
    }

    /// The label of paths no pattern fits.
    var otherLabel: Int { labels.count - 1 }

    /// The route for `method` and `path` (the full path, prefix included). Of the patterns that
    /// fit the path, the most literal wins; its methods are the `Allow` list.
    func match(method: String, path: String) -> Match {
        guard path.hasPrefix(prefix) else { return .notFound }
        let rest = path.dropFirst(prefix.count)
        guard rest.hasPrefix("/") else { return .notFound }
        let parts = rest.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var best: (pattern: RoutePattern, parameters: RouteParameters)?
        for route in routes {
            if let best, route.pattern.parameterCount >= best.pattern.parameterCount { continue }
            if let parameters = route.pattern.match(parts) { best = (route.pattern, parameters) }
        }
        guard let best else { return .notFound }
        let label = labels.firstIndex(of: best.pattern.description) ?? otherLabel
        let candidates = routes.filter { $0.pattern == best.pattern }
        guard let route = candidates.first(where: { $0.method == method }) else {
            return .methodNotAllowed(allowed: candidates.map(\.method), label: label)
        }
        return .route(route, best.parameters, label: label)
    }
}
