import AssetDedupCore
import BlobProtocols
import Foundation

/// A small JPEG of an image and the image's own upright size: what review pages show side by
/// side ("1920 × 1080"), so a person can tell which copy to keep without downloading it.
public struct Thumbnail: Equatable, Sendable {
    public var jpeg: [UInt8]
    public var width: Int
    public var height: Int

    public init(jpeg: [UInt8], width: Int, height: Int) {
        self.jpeg = jpeg
        self.width = width
        self.height = height
    }
}

/// Makes thumbnails from a local file (serve passes libvips' decoder); throws for content it
/// cannot decode. Kept behind a protocol so HTTPAPI stays free of C libraries.
public protocol ThumbnailMaking: Sendable {
    func thumbnail(fileAt path: String, maxSide: Int) throws -> Thumbnail
}

/// Thumbnails by content (sha256 and side), made once and kept on this node's disk: a page of
/// 50 duplicate groups asks for ~150 of them, and decoding a 12 MP JPEG takes ~50 ms. Keyed by
/// content, so the route checks ownership before it asks; a purged blob's entry is only a cache.
/// Content that does not decode is remembered too (an empty entry), so it is not decoded again.
public struct ThumbnailCache: Sendable {
    /// The sides a client may ask for: few, so the cache cannot be filled with every size.
    public static let sides = [128, 256, 512]

    public let directory: String
    public let maker: any ThumbnailMaking

    public init(directory: String, maker: any ThumbnailMaking) {
        self.directory = directory
        self.maker = maker
    }

    /// The thumbnail of `sha256` within `side` pixels, or nil when the content has none.
    public func thumbnail(of sha256: SHA256Digest, side: Int, blobs: any BlobStorage) throws -> Thumbnail? {
        let path = entryPath(sha256, side: side)
        if let data = FileManager.default.contents(atPath: path) { return Self.decode([UInt8](data)) }
        let made = try blobs.withLocalFile(sha256) { file in try? maker.thumbnail(fileAt: file, maxSide: side) }
        store(Self.encode(made), at: path)
        return made
    }

    func entryPath(_ sha256: SHA256Digest, side: Int) -> String {
        "\(directory)/\(side)/\(sha256.hex.prefix(2))/\(sha256.hex)"
    }

    /// Best effort: a cache that cannot be written (disk full, read-only) only costs a decode.
    private func store(_ bytes: [UInt8], at path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temp = "\(path).\(UUID().uuidString).tmp"
        guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)) else { return }
        if rename(temp, path) != 0 { unlink(temp) }
    }

    /// An entry: "ADT1", width and height (big-endian UInt32), then the JPEG; "ADT1" alone for
    /// content without a thumbnail.
    static func encode(_ thumbnail: Thumbnail?) -> [UInt8] {
        var bytes = Array("ADT1".utf8)
        guard let thumbnail else { return bytes }
        for value in [thumbnail.width, thumbnail.height] {
            withUnsafeBytes(of: UInt32(clamping: value).bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes + thumbnail.jpeg
    }

    static func decode(_ bytes: [UInt8]) -> Thumbnail? {
        guard bytes.count > 12, bytes.starts(with: Array("ADT1".utf8)) else { return nil }
        func uint32(at offset: Int) -> Int { bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        return Thumbnail(jpeg: Array(bytes[12...]), width: uint32(at: 4), height: uint32(at: 8))
    }
}
