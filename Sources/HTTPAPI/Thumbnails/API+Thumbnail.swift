import AssetDedupCore
import StoreProtocols

extension API {
    /// `GET /assets/{id}/thumbnail?size=128|256|512`: a JPEG of one of the caller's images
    /// (live or trashed: the trash page may show them too; an admin's: anyone's) within `size` pixels, with the image's
    /// own size in `Image-Width` / `Image-Height`. Another user's asset is 404 like a missing
    /// one; content with no thumbnail (not an image, or one that does not decode) is 404
    /// `no_thumbnail`. The browser may keep it (`Cache-Control: private`): an asset id's content
    /// never changes.
    func thumbnail(id text: String, _ request: HTTPRequest) throws -> HTTPResponse {
        try reading(request) { () throws -> Int in
            guard let text = request.query["size"], !text.isEmpty else { return 256 }
            guard let side = Int(text), ThumbnailCache.sides.contains(side) else {
                let sides = ThumbnailCache.sides.map(String.init).joined(separator: ", ")
                throw APIError.badRequest("invalid_size", "size must be one of \(sides)")
            }
            return side
        } _: { user, side in
            // Admins see every user's (the review page, as the report's thumbnails do).
            guard let id = try? AssetID(parsing: text),
                let asset = try user.isAdmin ? store.anyUsersAsset(id: id) : store.asset(id: id, user: user.userID)
            else { throw APIError.assetNotFound }
            guard let thumbnails, let sha256 = asset.sha256,
                asset.mimeType.map({ $0.hasPrefix("image/") }) ?? true,
                let thumbnail = try thumbnails.thumbnail(of: sha256, side: side, blobs: blobs)
            else {
                throw APIError(
                    status: 404, code: "no_thumbnail", message: "asset \(id) has no thumbnail (images only)")
            }
            return HTTPResponse(
                status: 200,
                headers: [
                    ("Content-Type", "image/jpeg"), ("Image-Width", String(thumbnail.width)),
                    ("Image-Height", String(thumbnail.height)), ("Cache-Control", "private, max-age=86400"),
                ],
                body: thumbnail.jpeg)
        }
    }
}
