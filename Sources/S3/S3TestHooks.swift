/// Faults tests inject to see what the server and the client do with them; never set in production.
struct S3TestHooks: Sendable {
    /// Changes a PutObject body after it was hashed and signed (the server must refuse it).
    var corruptBody: (@Sendable ([UInt8]) -> [UInt8])?
    /// Sends `x-amz-content-sha256` as the hash of the (corrupted) body actually sent, after
    /// signing: what someone changing body and hash on the way would do.
    var rehashAfterSigning = false
    /// Called before each UploadPart with its number; throwing fails that part.
    var beforePart: (@Sendable (Int) throws -> Void)?

    static let none = S3TestHooks()
}
