/// `POST /assets/{id}/providers` `{provider_id}`: put content the server holds on one more provider.
public struct AddProviderRequest: JSONReadable, Sendable {
    public let providerID: String

    public init(json: JSONValue) throws {
        providerID = try JSONFields(json).string("provider_id")
    }
}
