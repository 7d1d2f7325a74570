/// What a file's first bytes say it is. The name and the client's content type are not
/// trusted: the decoders only ever see formats chosen here.
public enum MediaSniffer {
    public enum Kind: Sendable, Equatable {
        case image(String)
        case video(String)
        case neither
    }

    /// How many leading bytes `kind(of:)` looks at (MPEG-TS's second sync byte is at 188).
    public static let headerLength = 200

    /// HEIF brands (HEIC, AVIF and the generic image brands) in an ISO `ftyp` box.
    static let imageBrands: Set<String> = [
        "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis",
    ]

    public static func kind(of header: [UInt8]) -> Kind {
        func starts(_ bytes: [UInt8], at offset: Int = 0) -> Bool {
            header.count >= offset + bytes.count && Array(header[offset..<offset + bytes.count]) == bytes
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(Array(text.utf8), at: offset) }

        if starts([0xFF, 0xD8, 0xFF]) { return .image("jpeg") }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .image("png") }
        if ascii("GIF87a") || ascii("GIF89a") { return .image("gif") }
        if ascii("RIFF") && ascii("WEBP", at: 8) { return .image("webp") }
        if ascii("RIFF") && ascii("AVI ", at: 8) { return .video("avi") }
        if ascii("ftyp", at: 4) { return isoKind(header) }
        // QuickTime files without an ftyp box start with another top-level atom.
        for atom in ["moov", "mdat", "wide", "free", "skip", "pnot"] where ascii(atom, at: 4) { return .video("mov") }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) { return .video("matroska") }
        if ascii("FLV") { return .video("flv") }
        if starts([0x00, 0x00, 0x01, 0xBA]) { return .video("mpeg") }
        if header.count > 188, header[0] == 0x47, header[188] == 0x47 { return .video("mpegts") }
        // M2TS (AVCHD camcorders' .MTS): 192-byte packets, a 4-byte timestamp before each sync byte.
        if header.count > 196, header[4] == 0x47, header[196] == 0x47 { return .video("mpegts") }
        return .neither
    }

    /// An ISO base media file: HEIF when its major or a compatible brand is an image brand.
    private static func isoKind(_ header: [UInt8]) -> Kind {
        let size = header.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        let end = min(header.count, max(16, size))
        var brands: [String] = []
        var offset = 8
        while offset + 4 <= end {
            if offset != 12 { brands.append(String(decoding: header[offset..<offset + 4], as: UTF8.self)) }
            offset += 4
        }
        if brands.contains(where: imageBrands.contains) { return .image("heif") }
        return .video("mov")
    }

    /// The MIME type a file's first bytes and the client's declared type come to: the content
    /// decides whether it is an image or a video (a declared `image/*` or `video/*` of another
    /// kind is not believed); the declared name is kept when it agrees (`video/mp4` for an ISO
    /// file), else the sniffed format's. Content that is neither keeps a declared non-media
    /// type (`application/pdf`) and is `application/octet-stream` otherwise.
    public static func mimeType(declared: String?, header: [UInt8]) -> String {
        // A declared type is a name, `type/subtype`; `*/*` and the like say nothing.
        let declared = declared.map { String($0.lowercased().filter { $0 != " " }) }
            .flatMap { $0.contains("*") || !$0.contains("/") ? nil : $0 }
        switch kind(of: header) {
        case .image(let format):
            if let declared, declared.hasPrefix("image/") { return declared }
            return imageTypes[format] ?? "image/\(format)"
        case .video(let format):
            if let declared, declared.hasPrefix("video/") { return declared }
            return videoTypes[format] ?? "video/\(format)"
        case .neither:
            guard let declared, !declared.isEmpty, !declared.hasPrefix("image/"), !declared.hasPrefix("video/") else {
                return "application/octet-stream"
            }
            return declared
        }
    }

    static let imageTypes = [
        "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp", "heif": "image/heif",
    ]
    static let videoTypes = [
        "avi": "video/x-msvideo", "mov": "video/quicktime", "matroska": "video/x-matroska", "flv": "video/x-flv",
        "mpeg": "video/mpeg", "mpegts": "video/mp2t",
    ]
}
