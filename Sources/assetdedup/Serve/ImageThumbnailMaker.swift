import HTTPAPI
import ImageDecoding

/// Review pages' thumbnails by libvips: the image upright, within the side asked for, as a JPEG
/// (quality 80: a 256-pixel one is ~10 KB), with the image's own size.
struct ImageThumbnailMaker: ThumbnailMaking {
    let decoder = ImageDecoder()

    func thumbnail(fileAt path: String, maxSide: Int) throws -> Thumbnail {
        let (width, height) = try decoder.size(fileAt: path)
        let jpeg = try decoder.thumbnailJPEG(fileAt: path, maxSide: maxSide, quality: 80)
        return Thumbnail(jpeg: jpeg, width: width, height: height)
    }
}
