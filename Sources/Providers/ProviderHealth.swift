/// Whether a provider looks usable right now, for `GET /api/v1/providers`.
public enum ProviderHealth: String, Sendable, Equatable {
    case ok
    case unavailable
}
